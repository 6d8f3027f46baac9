/** `GET /v1/usage`: the calling key's usage by day and model over `?from=YYYY-MM-DD&to=YYYY-MM-DD`. */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { requireCaller } from '../auth.ts';
import { NotFoundError } from '../errors.ts';
import { json } from '../http.ts';
import type { UsageSink } from './recorder.ts';
import { parseRange, type UsageReport } from './report.ts';

/** What the api function does with usage: count requests, answer a key's usage, enforce limits. */
export interface ApiUsage {
  readonly sink: UsageSink;
  readonly report: (keyId: string, range: { from: string; to: string }) => Promise<UsageReport>;
  /** Budgets and per-minute limits: throws over one, else the `x-ratelimit-*` headers. */
  readonly admit?: Admit;
}

export type Admit = (
  keyId: string | undefined,
  model: string,
  tokens: boolean,
) => Promise<Record<string, string>>;

export async function usageRoute(
  report: ((keyId: string, range: { from: string; to: string }) => Promise<UsageReport>) | undefined,
  event: APIGatewayProxyEvent,
): Promise<APIGatewayProxyResult> {
  if (!report) {
    throw new NotFoundError(
      'usage is not recorded by this deployment: it has no usage table (MODELGATE_USAGE_TABLE)',
    );
  }
  const keyId = requireCaller(event, 'usage figures');
  const query = event.queryStringParameters ?? {};
  const range = parseRange({ from: query.from, to: query.to });
  return json(200, { key_id: keyId, ...(await report(keyId, range)) });
}
