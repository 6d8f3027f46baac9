/** `GET /v1/metrics`: the namespace's last hour from CloudWatch when deployed; locally the gateway's `/metrics` instead. */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { requireCaller } from '../auth.ts';
import { NotFoundError } from '../errors.ts';
import { json } from '../http.ts';
import type { MetricsReport } from './cloudwatch.ts';

export type ReadMetrics = () => Promise<MetricsReport>;

export async function metricsRoute(
  read: ReadMetrics | undefined,
  event: APIGatewayProxyEvent,
): Promise<APIGatewayProxyResult> {
  requireCaller(event, 'metrics');
  if (!read) {
    throw new NotFoundError(
      'metrics are read from CloudWatch only when deployed (MODELGATE_CLOUDWATCH_METRICS); locally the gateway serves its counters at /metrics',
    );
  }
  return json(200, await read());
}
