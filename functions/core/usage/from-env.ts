/**
 * The usage recorder and table reader of a function, from its environment:
 * one DynamoDB client per process, short timeouts so a slow table never holds memory long.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { FunctionEnv } from '../env.ts';
import { UsageLimits } from './limits.ts';
import { UsageRecorder } from './recorder.ts';

export interface UsageStore {
  readonly client: DynamoDBClient;
  readonly table: string;
  readonly recorder: UsageRecorder;
  /** Budgets and per-minute limits, when some key has them. */
  readonly limits: UsageLimits | undefined;
}

/** Undefined when the function has no usage table (usage is then not recorded). */
export function usageFromEnv(
  env: Pick<FunctionEnv, 'usage'>,
  logger: { error(message: string, details: Record<string, unknown>): void },
): UsageStore | undefined {
  if (!env.usage) return undefined;
  const { table, endpoint, retentionDays, flushMs } = env.usage;
  const client = new DynamoDBClient({
    ...(endpoint && { endpoint }),
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 2000, socketTimeout: 5000 },
  });
  const limits =
    env.usage.limits.size > 0 ? new UsageLimits({ client, table, limits: env.usage.limits }) : undefined;
  const recorder = new UsageRecorder({
    client,
    table,
    retentionDays,
    flushIntervalMs: flushMs,
    ...(limits && {
      // A key with limits is checked against the table: its usage is written at once.
      immediate: (keyId: string) => limits.has(keyId),
      perMinute: (keyId: string) => limits.perMinute(keyId),
      onWritten: (keyId: string) => limits.forget(keyId),
    }),
    onLost: (message, details) => logger.error(message, details),
  });
  return { client, table, recorder, limits };
}
