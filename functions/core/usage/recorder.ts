/**
 * Usage accounting off the request path: additions are summed in memory and
 * written after the answer as atomic DynamoDB `ADD`s, one per key × day × model at a time.
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
  /**
   * How long additions are summed before they are written (default 0: on the next turn of the
   * event loop). Under load a longer interval turns many writes into one per key × day × model.
   */
  readonly flushIntervalMs?: number;
  /** Keys whose additions go out on the next turn whatever the interval (keys with limits read the table). */
  readonly immediate?: (keyId: string) => boolean;
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
 * Sums additions per key × day × model and flushes them after the answer went out: on the next
 * turn of the event loop, or once `flushIntervalMs` has passed. An item has at most one write in
 * flight: what arrives meanwhile waits for the next, so writes never pile up on a slow table.
 * A write that fails is merged back and retried with backoff; after the last attempt it is
 * logged and counted (`modelgate_usage_write_failures_total`), never silently lost.
 * `drain()` writes everything at once (shutdown, and the end of a Lambda invocation).
 */
export class UsageRecorder implements UsageSink {
  private pending = new Map<string, Pending>();
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  /** The write in flight of each item that has one, by id. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly now: () => number;
  private day = { from: Number.NaN, name: '' };
  /** Today's items by key and model (see dayItem). */
  private readonly dayItems = new Map<string, Map<string, { id: string; sk: string }>>();
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
    const day = this.dayAt(at);
    const item = this.dayItem(keyId, model, day);
    this.addTo(item.id, keyId, item.sk, day, model, this.options.retentionDays * 86_400, addition, 0);
    // Per-minute windows count answered requests and their tokens, not refusals and failures.
    const answered = !addition.clientErrors && !addition.serverErrors;
    if (answered && this.options.perMinute?.(keyId)) {
      this.merge({ keyId, sk: minuteKey(at, model), day, model, lifetime: 3600 }, addition, 0);
    }
    this.schedule(this.delayFor(keyId));
  }

  /** Resolves once every addition made so far is written or given up, without waiting for the interval. */
  async drain(): Promise<void> {
    while (this.pending.size > 0 || this.inFlight.size > 0 || this.timers.size > 0) {
      if (this.pending.size > 0) this.flush();
      await Promise.race([...this.inFlight.values(), new Promise((r) => setTimeout(r, 10))]);
    }
  }

  /** Stops retry and interval timers (the process is ending); what retries held is reported lost. */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The UTC day of `at`, reformatted only when the day changes (it is on every request's path). */
  private dayAt(at: number): string {
    if (!(at >= this.day.from && at < this.day.from + 86_400_000)) {
      const from = at - (at % 86_400_000);
      this.day = { from, name: dayOf(from) };
      this.dayItems.clear();
    }
    return this.day.name;
  }

  /**
   * The day's item of a key and model: its sort key and pending id, built once a day (a request
   * adds to it without making a string; key ids and model names are the same strings every time).
   */
  private dayItem(keyId: string, model: string, day: string): { id: string; sk: string } {
    let byModel = this.dayItems.get(keyId);
    if (!byModel) {
      byModel = new Map();
      this.dayItems.set(keyId, byModel);
    }
    let item = byModel.get(model);
    if (!item) {
      const sk = sortKey(day, model);
      item = { id: `${keyId}${SEP}${sk}`, sk };
      byModel.set(model, item);
    }
    return item;
  }

  /** How long a key's additions wait before they are written. */
  private delayFor(keyId: string): number {
    return this.options.immediate?.(keyId) ? 0 : (this.options.flushIntervalMs ?? 0);
  }

  /** A flush on the next turn (`delayMs` 0), or after `delayMs` unless one is already due. */
  private schedule(delayMs: number): void {
    if (delayMs === 0) {
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
      return;
    }
    if (this.scheduled || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, delayMs);
    this.timer.unref();
  }

  private merge(item: Omit<Pending, 'counts' | 'attempt'>, add: Partial<UsageCounts>, attempt: number) {
    const { keyId, sk, day, model, lifetime } = item;
    this.addTo(`${keyId}${SEP}${sk}`, keyId, sk, day, model, lifetime, add, attempt);
  }

  /** Adds to the pending item `id`, made from the other arguments if there is none. */
  private addTo(
    id: string,
    keyId: string,
    sk: string,
    day: string,
    model: string,
    lifetime: number,
    add: Partial<UsageCounts>,
    attempt: number,
  ) {
    let entry = this.pending.get(id);
    if (!entry) {
      entry = { keyId, sk, day, model, lifetime, counts: zeroCounts(), attempt };
      this.pending.set(id, entry);
    }
    if (attempt > entry.attempt) entry.attempt = attempt;
    for (const name of USAGE_COUNTERS) entry.counts[name] += add[name] ?? 0;
  }

  /** Writes every pending item that has no write in flight; the others go once theirs lands. */
  private flush(): void {
    for (const [id, entry] of this.pending) {
      if (this.inFlight.has(id)) continue;
      this.pending.delete(id);
      const write = this.write(entry).finally(() => {
        this.inFlight.delete(id);
        // Additions that arrived while it was in flight wait their turn as any other.
        if (this.pending.has(id)) this.schedule(this.delayFor(entry.keyId));
      });
      this.inFlight.set(id, write);
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
            this.schedule(0);
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
