/**
 * Usage accounting off the request path: additions are summed in memory and
 * written after the answer as atomic DynamoDB `ADD`s, one per key × day × model.
 */
import { type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type Counters, processCounters } from '../counters.ts';
import {
  dayOf,
  minuteKey,
  sortKey,
  USAGE_COUNTERS,
  USAGE_PK,
  USAGE_SK,
  USAGE_TTL,
  type UsageAddition,
  type UsageCounts,
  zeroCounts,
} from './table.ts';

/** Where a request's usage goes: `add` returns at once and never throws. */
export interface UsageSink {
  add(addition: UsageAddition): void;
}

export interface UsageRecorderOptions {
  readonly client: Pick<DynamoDBClient, 'send'>;
  readonly table: string;
  /** Days before DynamoDB's TTL removes a day of usage. */
  readonly retentionDays: number;
  /** Attempts per write, after the SDK's own retries (default 3). */
  readonly attempts?: number;
  /** Wait before a failed write is tried again; doubles each time (default 200 ms). */
  readonly retryDelayMs?: number;
  readonly now?: () => number;
  readonly counters?: Counters;
  /** Keys with per-minute limits: their additions also go to a per-minute item. */
  readonly perMinute?: (keyId: string) => boolean;
  /** Told of each item written for a key (budget checks then read it afresh). */
  readonly onWritten?: (keyId: string) => void;
  /** Told of a write given up after every attempt (the counts it carried are in the message). */
  readonly onLost?: (message: string, details: Record<string, unknown>) => void;
}

interface Pending {
  readonly keyId: string;
  /** The item's sort key: a day's (`<day>#<model>`) or a minute's (`min#<minute>#<model>`). */
  readonly sk: string;
  readonly day: string;
  readonly model: string;
  /** Seconds the item lives after its last write. */
  readonly lifetime: number;
  readonly counts: UsageCounts;
  attempt: number;
}

const SEP = '\u0000';

/**
 * Sums additions per key × day × model and flushes them on the next turn of
 * the event loop, after the answer went out. A write that fails is merged
 * back and retried with backoff; after the last attempt it is logged and
 * counted (`modelgate_usage_write_failures_total`), never silently lost.
 */
export class UsageRecorder implements UsageSink {
  private pending = new Map<string, Pending>();
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly now: () => number;
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private readonly writes: { inc(by?: number): void };
  private readonly failures: { inc(by?: number): void };

  constructor(private readonly options: UsageRecorderOptions) {
    this.now = options.now ?? Date.now;
    this.attempts = options.attempts ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 200;
    const counters = options.counters ?? processCounters;
    this.writes = counters.counter(
      'modelgate_usage_writes_total',
      'Usage items written to the usage table (one per key, day and model per flush).',
      {},
    );
    this.failures = counters.counter(
      'modelgate_usage_write_failures_total',
      'Usage writes given up after every attempt: their counts are in the error log.',
      {},
    );
  }

  add(addition: UsageAddition): void {
    const at = this.now();
    const { keyId, model } = addition;
    const day = dayOf(at);
    this.merge(
      { keyId, sk: sortKey(day, model), day, model, lifetime: this.options.retentionDays * 86_400 },
      addition,
      0,
    );
    // Per-minute windows count answered requests and their tokens, not refusals and failures.
    const answered = !addition.clientErrors && !addition.serverErrors;
    if (answered && this.options.perMinute?.(keyId)) {
      this.merge({ keyId, sk: minuteKey(at, model), day, model, lifetime: 3600 }, addition, 0);
    }
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Resolves once every addition made so far is written or given up. */
  async drain(): Promise<void> {
    while (this.pending.size > 0 || this.inFlight.size > 0 || this.timers.size > 0) {
      if (this.pending.size > 0 && !this.scheduled) this.flush();
      await Promise.race([...this.inFlight, new Promise((r) => setTimeout(r, 10))]);
    }
  }

  /** Stops retry timers (the process is ending); what they held is reported lost. */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private merge(item: Omit<Pending, 'counts' | 'attempt'>, add: Partial<UsageCounts>, attempt: number) {
    const id = `${item.keyId}${SEP}${item.sk}`;
    let entry = this.pending.get(id);
    if (!entry) {
      entry = { ...item, counts: zeroCounts(), attempt };
      this.pending.set(id, entry);
    }
    entry.attempt = Math.max(entry.attempt, attempt);
    for (const name of USAGE_COUNTERS) entry.counts[name] += add[name] ?? 0;
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = new Map();
    for (const entry of batch.values()) {
      const write = this.write(entry).finally(() => this.inFlight.delete(write));
      this.inFlight.add(write);
    }
  }

  private async write(entry: Pending): Promise<void> {
    const { keyId, sk, day, model, counts } = entry;
    const names: Record<string, string> = { '#ttl': USAGE_TTL, '#model': 'model', '#day': 'day' };
    const values: Record<string, { N: string } | { S: string }> = {
      ':ttl': { N: String(Math.floor(this.now() / 1000) + entry.lifetime) },
      ':model': { S: model },
      ':day': { S: day },
    };
    for (const name of USAGE_COUNTERS) {
      names[`#${name}`] = name;
      values[`:${name}`] = { N: String(counts[name]) };
    }
    try {
      await this.options.client.send(
        new UpdateItemCommand({
          TableName: this.options.table,
          Key: { [USAGE_PK]: { S: keyId }, [USAGE_SK]: { S: sk } },
          UpdateExpression: `ADD ${USAGE_COUNTERS.map((n) => `#${n} :${n}`).join(', ')} SET #ttl = :ttl, #model = :model, #day = :day`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      this.writes.inc();
      this.options.onWritten?.(keyId);
    } catch (error) {
      const attempt = entry.attempt + 1;
      if (attempt < this.attempts) {
        // Merged back: additions made meanwhile ride along, and nothing is counted twice here.
        const timer = setTimeout(
          () => {
            this.timers.delete(timer);
            this.merge(entry, counts, attempt);
            if (!this.scheduled) this.flush();
          },
          this.retryDelayMs * 2 ** (attempt - 1),
        );
        timer.unref();
        this.timers.add(timer);
        return;
      }
      this.failures.inc();
      this.options.onLost?.('usage write failed after every attempt: these counts are not recorded', {
        table: this.options.table,
        keyId,
        day,
        model,
        counts,
        attempts: attempt,
        error: (error as Error).message,
      });
    }
  }
}
