/**
 * Budgets (tokens and requests per month) and per-minute limits (per key and
 * model) of API keys, checked before a request against the usage table.
 */
import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import type { KeyLimits } from '../env.ts';
import { QuotaExceededError, RateLimitError } from '../errors.ts';
import { readUsage } from './report.ts';
import { minuteKey, USAGE_PK, USAGE_SK } from './table.ts';

export interface UsageLimitsOptions {
  readonly client: Pick<DynamoDBClient, 'send'>;
  readonly table: string;
  readonly limits: ReadonlyMap<string, KeyLimits>;
  /** How long a key's month totals are reused before the table is read again (default 2 s). */
  readonly monthCacheMs?: number;
  readonly now?: () => number;
}

type Totals = { requests: number; tokens: number };

/**
 * Answers whether a key may make one more request of a model. Keys without
 * limits cost nothing; others a cached Query of this month's items and, with
 * per-minute limits, a GetItem of this minute's. Usage is written after each
 * answer, so a key can overshoot by what its requests in flight use.
 */
export class UsageLimits {
  private readonly months = new Map<string, { at: number; month: string; totals: Totals }>();
  private readonly now: () => number;

  constructor(private readonly options: UsageLimitsOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Drops a key's cached month totals: this process just added to them. */
  forget(keyId: string): void {
    this.months.delete(keyId);
  }

  /** Whether a key has budgets or per-minute limits (its usage is then read back from the table). */
  has(keyId: string): boolean {
    return this.options.limits.has(keyId);
  }

  /** Whether a key has per-minute limits (its usage is then also counted per minute). */
  perMinute(keyId: string): boolean {
    const l = this.options.limits.get(keyId);
    return l?.tokensPerMinute !== undefined || l?.requestsPerMinute !== undefined;
  }

  /**
   * Admits one request, or throws: {@link QuotaExceededError} over a monthly
   * budget (tokens count on language-model routes only), {@link RateLimitError}
   * over a per-minute limit.
   * @returns the `x-ratelimit-*` headers of the key's per-minute limits (none without).
   */
  async admit(keyId: string | undefined, model: string, tokens: boolean): Promise<Record<string, string>> {
    const limits = keyId === undefined ? undefined : this.options.limits.get(keyId);
    if (!keyId || !limits) return {};
    const now = this.now();
    if (limits.requestsPerMonth !== undefined || (tokens && limits.tokensPerMonth !== undefined)) {
      const month = await this.month(keyId, now);
      const renews = nextMonth(now);
      if (limits.requestsPerMonth !== undefined && month.requests >= limits.requestsPerMonth) {
        throw new QuotaExceededError(
          `This API key used its monthly budget of ${limits.requestsPerMonth} requests (${month.requests} this month); it renews on ${renews}.`,
        );
      }
      if (tokens && limits.tokensPerMonth !== undefined && month.tokens >= limits.tokensPerMonth) {
        throw new QuotaExceededError(
          `This API key used its monthly budget of ${limits.tokensPerMonth} tokens (${month.tokens} this month); it renews on ${renews}.`,
        );
      }
    }
    if (!this.perMinute(keyId)) return {};
    const used = await this.minute(keyId, model, now);
    const reset = `${60 - Math.floor((now % 60_000) / 1000)}s`;
    const headers: Record<string, string> = {};
    if (limits.requestsPerMinute !== undefined) {
      headers['x-ratelimit-limit-requests'] = String(limits.requestsPerMinute);
      headers['x-ratelimit-remaining-requests'] = String(
        Math.max(0, limits.requestsPerMinute - used.requests - 1),
      );
      headers['x-ratelimit-reset-requests'] = reset;
    }
    if (limits.tokensPerMinute !== undefined && tokens) {
      headers['x-ratelimit-limit-tokens'] = String(limits.tokensPerMinute);
      headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, limits.tokensPerMinute - used.tokens));
      headers['x-ratelimit-reset-tokens'] = reset;
    }
    if (limits.requestsPerMinute !== undefined && used.requests >= limits.requestsPerMinute) {
      headers['x-ratelimit-remaining-requests'] = '0';
      throw new RateLimitError(
        `Rate limit reached for ${model} on requests per min (RPM): Limit ${limits.requestsPerMinute}, Used ${used.requests}. Please try again in ${reset}.`,
        'requests',
        { ...headers, 'Retry-After': reset.slice(0, -1) },
      );
    }
    if (tokens && limits.tokensPerMinute !== undefined && used.tokens >= limits.tokensPerMinute) {
      throw new RateLimitError(
        `Rate limit reached for ${model} on tokens per min (TPM): Limit ${limits.tokensPerMinute}, Used ${used.tokens}. Please try again in ${reset}.`,
        'tokens',
        { ...headers, 'Retry-After': reset.slice(0, -1) },
      );
    }
    return headers;
  }

  private async month(keyId: string, now: number): Promise<Totals> {
    const month = new Date(now).toISOString().slice(0, 7);
    const cached = this.months.get(keyId);
    if (cached && cached.month === month && now - cached.at < (this.options.monthCacheMs ?? 2000)) {
      return cached.totals;
    }
    const report = await readUsage(
      this.options.client,
      this.options.table,
      { from: `${month}-01`, to: `${month}-31` },
      keyId,
    );
    const totals = { requests: report.totals.requests, tokens: report.totals.total_tokens };
    this.months.set(keyId, { at: now, month, totals });
    return totals;
  }

  private async minute(keyId: string, model: string, now: number): Promise<Totals> {
    const { Item } = await this.options.client.send(
      new GetItemCommand({
        TableName: this.options.table,
        Key: { [USAGE_PK]: { S: keyId }, [USAGE_SK]: { S: minuteKey(now, model) } },
        ConsistentRead: true,
      }),
    );
    const totals = { requests: 0, tokens: 0 };
    if (Item) add(totals, Item);
    return totals;
  }
}

function add(totals: Totals, item: Record<string, { N?: string }>): void {
  totals.requests += Number(item.requests?.N ?? 0);
  totals.tokens += Number(item.promptTokens?.N ?? 0) + Number(item.completionTokens?.N ?? 0);
}

function nextMonth(now: number): string {
  const d = new Date(now);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1)).toISOString().slice(0, 10);
}
