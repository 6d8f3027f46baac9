/**
 * The usage table's contract: one item per API key × day × model, its key
 * attributes and counters. Infra, the functions, local mode and the CLI import it.
 */

/** Partition key: the API Gateway key id. */
export const USAGE_PK = 'keyId';
/** Sort key: `<YYYY-MM-DD>#<model>`, so a date range of one key is one Query. */
export const USAGE_SK = 'dayModel';
/** Epoch seconds after which DynamoDB's TTL deletes the item. */
export const USAGE_TTL = 'expiresAt';

/** The counters of an item, each added atomically (`ADD`). */
export const USAGE_COUNTERS = [
  'requests',
  'rows',
  'promptTokens',
  'completionTokens',
  'clientErrors',
  'serverErrors',
] as const;
export type UsageCounter = (typeof USAGE_COUNTERS)[number];
export type UsageCounts = Record<UsageCounter, number>;

/** What one request adds to its key's usage of a model today. */
export interface UsageAddition extends Partial<UsageCounts> {
  readonly keyId: string;
  readonly model: string;
}

/** `YYYY-MM-DD`, UTC: the day a usage item counts. */
export const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function dayOf(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

export function sortKey(day: string, model: string): string {
  return `${day}#${model}`;
}

/**
 * Sort key of a key's use of a model in one UTC minute (`min#YYYY-MM-DDTHH:MM#model`),
 * kept an hour, for per-minute limits; it sorts after every day, outside date ranges.
 */
export function minuteKey(epochMs: number, model: string): string {
  return `min#${new Date(epochMs).toISOString().slice(0, 16)}#${model}`;
}

export function zeroCounts(): UsageCounts {
  return { requests: 0, rows: 0, promptTokens: 0, completionTokens: 0, clientErrors: 0, serverErrors: 0 };
}
