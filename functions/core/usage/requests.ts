/** What a request adds to its caller's usage (the API key API Gateway matched, see auth.ts). */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { callerKey } from '../auth.ts';
import type { UsageSink } from './recorder.ts';

type Caller = Pick<APIGatewayProxyEvent, 'requestContext'>;

/** A request a model answered: rows scored, or tokens read and written. */
export function recordServed(
  sink: UsageSink | undefined,
  event: Caller,
  model: string,
  counts: { rows?: number; promptTokens?: number; completionTokens?: number },
): void {
  const keyId = sink && callerKey(event);
  if (!keyId) return;
  sink.add({
    keyId,
    model,
    requests: 1,
    rows: counts.rows,
    promptTokens: counts.promptTokens,
    completionTokens: counts.completionTokens,
  });
}

/** A request that failed: a client error (4xx) or a server error (5xx). */
export function recordFailed(
  sink: UsageSink | undefined,
  event: Caller,
  model: string,
  statusCode: number,
): void {
  const keyId = sink && callerKey(event);
  if (!keyId) return;
  sink.add({
    keyId,
    model,
    requests: 1,
    ...(statusCode >= 500 ? { serverErrors: 1 } : { clientErrors: 1 }),
  });
}

/** Rows in an answer: predictions, or the first dimension of the first V2 output. */
export function rowsOf(body: unknown): number {
  const b = body as { predictions?: unknown[]; outputs?: Array<{ shape?: number[] }> } | null;
  if (Array.isArray(b?.predictions)) return b.predictions.length;
  return b?.outputs?.[0]?.shape?.[0] ?? 0;
}
