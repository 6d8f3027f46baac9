/**
 * The read side of usage: a key's days and models over a date range, as
 * `GET /v1/usage` and `modelgate usage` answer them.
 */
import { type DynamoDBClient, QueryCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { BadRequestError } from '../errors.ts';
import { DAY, dayOf, USAGE_COUNTERS, USAGE_PK, USAGE_SK, type UsageCounts, zeroCounts } from './table.ts';

/** One key's usage of one model on one day, in the API's snake_case. */
export interface UsageLine {
  readonly key_id: string;
  readonly day: string;
  readonly model: string;
  readonly requests: number;
  readonly rows: number;
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
  readonly client_errors: number;
  readonly server_errors: number;
}

export interface UsageReport {
  readonly object: 'usage';
  readonly from: string;
  readonly to: string;
  readonly data: UsageLine[];
  readonly totals: Omit<UsageLine, 'key_id' | 'day' | 'model'>;
}

/** Days a report covers when no `from` is given: the last 30, today included. */
export const DEFAULT_RANGE_DAYS = 30;
/** The longest range one report covers. */
export const MAX_RANGE_DAYS = 400;

/**
 * `from` and `to` (inclusive, `YYYY-MM-DD`, UTC) from a request; `to`
 * defaults to today and `from` to 29 days before `to`.
 * @throws BadRequestError saying what was wrong and what is expected.
 */
export function parseRange(
  query: { from?: string | undefined; to?: string | undefined },
  now = Date.now(),
): { from: string; to: string } {
  const check = (name: string, value: string) => {
    if (
      !DAY.test(value) ||
      Number.isNaN(Date.parse(`${value}T00:00:00Z`)) ||
      dayOf(Date.parse(value)) !== value
    )
      throw new BadRequestError(`"${name}" must be a date YYYY-MM-DD, got ${JSON.stringify(value)}`);
    return value;
  };
  const to = query.to === undefined ? dayOf(now) : check('to', query.to);
  const from =
    query.from === undefined
      ? dayOf(Date.parse(to) - (DEFAULT_RANGE_DAYS - 1) * 86_400_000)
      : check('from', query.from);
  if (from > to) throw new BadRequestError(`"from" (${from}) is after "to" (${to})`);
  if ((Date.parse(to) - Date.parse(from)) / 86_400_000 >= MAX_RANGE_DAYS)
    throw new BadRequestError(`a range covers at most ${MAX_RANGE_DAYS} days, got ${from} to ${to}`);
  return { from, to };
}

/**
 * The usage of one key (a Query), or of every key (a Scan, for operators),
 * over `from`..`to`, ordered by key, day and model.
 */
export async function readUsage(
  client: Pick<DynamoDBClient, 'send'>,
  table: string,
  range: { from: string; to: string },
  keyId?: string,
): Promise<UsageReport> {
  const values = { ':from': { S: `${range.from}#` }, ':to': { S: `${range.to}#\uffff` } };
  const lines: UsageLine[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await client.send(
      keyId === undefined
        ? new ScanCommand({
            TableName: table,
            FilterExpression: '#sk BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#sk': USAGE_SK },
            ExpressionAttributeValues: values,
            ExclusiveStartKey: start,
          })
        : new QueryCommand({
            TableName: table,
            KeyConditionExpression: '#pk = :key AND #sk BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#pk': USAGE_PK, '#sk': USAGE_SK },
            ExpressionAttributeValues: { ...values, ':key': { S: keyId } },
            ExclusiveStartKey: start,
          }),
    );
    for (const item of page.Items ?? []) lines.push(lineOf(item));
    start = page.LastEvaluatedKey as typeof start;
  } while (start);
  lines.sort((a, b) => (a.key_id + a.day + a.model).localeCompare(b.key_id + b.day + b.model));
  const sum = zeroCounts();
  for (const l of lines) {
    sum.requests += l.requests;
    sum.rows += l.rows;
    sum.promptTokens += l.prompt_tokens;
    sum.completionTokens += l.completion_tokens;
    sum.clientErrors += l.client_errors;
    sum.serverErrors += l.server_errors;
  }
  return { object: 'usage', ...range, data: lines, totals: snake(sum) };
}

type Item = Record<string, { S?: string; N?: string }>;

function lineOf(item: Item): UsageLine {
  const counts = zeroCounts();
  for (const name of USAGE_COUNTERS) counts[name] = Number(item[name]?.N ?? 0);
  const [day = '', ...model] = (item[USAGE_SK]?.S ?? '').split('#');
  return { key_id: item[USAGE_PK]?.S ?? '', day, model: model.join('#'), ...snake(counts) };
}

function snake(c: UsageCounts): UsageReport['totals'] {
  return {
    requests: c.requests,
    rows: c.rows,
    prompt_tokens: c.promptTokens,
    completion_tokens: c.completionTokens,
    total_tokens: c.promptTokens + c.completionTokens,
    client_errors: c.clientErrors,
    server_errors: c.serverErrors,
  };
}
