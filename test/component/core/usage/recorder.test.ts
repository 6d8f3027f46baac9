/** The usage recorder and report against a real DynamoDB API (dynalite on loopback). */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Counters } from '../../../../functions/core/counters.ts';
import { UsageRecorder } from '../../../../functions/core/usage/recorder.ts';
import { parseRange, readUsage } from '../../../../functions/core/usage/report.ts';
import { createUsageTable } from '../../../../local/dynamodb.ts';
import { startTestDynamo, type TestDynamo } from '../../../fixtures/dynamodb.ts';

let dynamo: TestDynamo;
let client: DynamoDBClient;
const DAY1 = Date.parse('2026-03-01T12:00:00Z');
const DAY2 = Date.parse('2026-03-02T08:00:00Z');

beforeAll(async () => {
  dynamo = await startTestDynamo();
  client = dynamo.client;
});
afterAll(() => dynamo.close());

describe('UsageRecorder', () => {
  it('sums concurrent additions exactly, per key, day and model, with a TTL', async () => {
    let now = DAY1;
    const recorder = new UsageRecorder({ client, table: 'usage', retentionDays: 10, now: () => now });
    const adds: Promise<void>[] = [];
    for (let i = 0; i < 500; i++) {
      recorder.add({ keyId: 'team-a', model: 'iris', requests: 1, rows: i % 3 });
      recorder.add({ keyId: 'team-a', model: 'demo-lm', requests: 1, promptTokens: 5, completionTokens: i });
      // Flushes interleave with additions: some writes are in flight while more arrive.
      if (i % 50 === 0) adds.push(new Promise((r) => setImmediate(r)));
      if (i % 100 === 0) await Promise.all(adds);
    }
    recorder.add({ keyId: 'team-b', model: 'iris', requests: 1, clientErrors: 1 });
    await recorder.drain();
    now = DAY2;
    recorder.add({ keyId: 'team-a', model: 'iris', requests: 1, serverErrors: 1 });
    await recorder.drain();

    const a = await readUsage(client, 'usage', { from: '2026-03-01', to: '2026-03-02' }, 'team-a');
    expect(a.data.map((l) => [l.day, l.model, l.requests])).toEqual([
      ['2026-03-01', 'demo-lm', 500],
      ['2026-03-01', 'iris', 500],
      ['2026-03-02', 'iris', 1],
    ]);
    const rows = Array.from({ length: 500 }, (_, i) => i % 3).reduce((x, y) => x + y, 0);
    expect(a.data[1]?.rows).toBe(rows);
    expect(a.data[0]).toMatchObject({ prompt_tokens: 2500, completion_tokens: (499 * 500) / 2 });
    expect(a.totals).toMatchObject({ requests: 1001, server_errors: 1, client_errors: 0 });
    expect(a.totals.total_tokens).toBe(2500 + (499 * 500) / 2);

    // Another key's usage is not in this key's report; the operator's scan sees both.
    const all = await readUsage(client, 'usage', { from: '2026-03-01', to: '2026-03-01' });
    expect(new Set(all.data.map((l) => l.key_id))).toEqual(new Set(['team-a', 'team-b']));
  });

  it('retries a failed write and loses nothing once the table answers', async () => {
    const lost: unknown[] = [];
    const recorder = new UsageRecorder({
      client,
      table: 'late',
      retentionDays: 1,
      attempts: 8,
      retryDelayMs: 20,
      now: () => DAY1,
      onLost: (_m, details) => lost.push(details),
    });
    recorder.add({ keyId: 'k', model: 'm', requests: 2 });
    // The first write fails (no such table); the table appears before the retries run out.
    await expect.poll(() => (recorder as unknown as { timers: Set<unknown> }).timers.size).toBe(1);
    recorder.add({ keyId: 'k', model: 'm', requests: 3 });
    await createUsageTable(client, 'late');
    await recorder.drain();
    expect(lost).toEqual([]);
    const report = await readUsage(client, 'late', { from: '2026-03-01', to: '2026-03-01' }, 'k');
    expect(report.totals.requests).toBe(5);
  });

  it('logs and counts a write it gives up on, with the counts it carried', async () => {
    const counters = new Counters();
    const lost: Array<Record<string, unknown>> = [];
    const recorder = new UsageRecorder({
      client,
      table: 'missing',
      retentionDays: 1,
      attempts: 2,
      retryDelayMs: 5,
      counters,
      onLost: (_m, details) => lost.push(details),
    });
    recorder.add({ keyId: 'k', model: 'm', requests: 1, promptTokens: 7 });
    await recorder.drain();
    expect(counters.get('modelgate_usage_write_failures_total', {})).toBe(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ keyId: 'k', model: 'm', attempts: 2 });
    expect(lost[0]?.counts).toMatchObject({ requests: 1, promptTokens: 7 });
  });
});

describe('UsageRecorder with a flush interval', () => {
  /** The table's client, counting writes in flight per item and the most seen at once. */
  const watched = () => {
    const inFlight = new Map<string, number>();
    let most = 0;
    let sends = 0;
    const send: DynamoDBClient['send'] = async (command: { input?: { Key?: unknown } }) => {
      const item = JSON.stringify(command.input?.Key);
      inFlight.set(item, (inFlight.get(item) ?? 0) + 1);
      most = Math.max(most, inFlight.get(item) ?? 0);
      sends++;
      try {
        return await (client.send as (c: unknown) => Promise<never>)(command);
      } finally {
        inFlight.set(item, (inFlight.get(item) ?? 1) - 1);
      }
    };
    return { client: { send }, most: () => most, sends: () => sends };
  };

  it('turns many additions into few writes, at most one in flight per item, exact after drain', async () => {
    const table = watched();
    const recorder = new UsageRecorder({
      client: table.client,
      table: 'usage',
      retentionDays: 1,
      flushIntervalMs: 50,
      now: () => Date.parse('2026-04-01T10:00:00Z'),
    });
    for (let i = 0; i < 2000; i++) {
      recorder.add({ keyId: 'busy', model: 'iris', requests: 1, rows: 2 });
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    await recorder.drain();
    const report = await readUsage(client, 'usage', { from: '2026-04-01', to: '2026-04-01' }, 'busy');
    expect(report.totals).toMatchObject({ requests: 2000, rows: 4000 });
    expect(table.most()).toBe(1);
    // 20 turns of the event loop, well under one interval: a handful of writes, not one per turn.
    expect(table.sends()).toBeLessThan(5);
  });

  it('writes a key with limits on the next turn, whatever the interval', async () => {
    const recorder = new UsageRecorder({
      client,
      table: 'usage',
      retentionDays: 1,
      flushIntervalMs: 60_000,
      immediate: (keyId) => keyId === 'limited',
      now: () => Date.parse('2026-04-02T10:00:00Z'),
    });
    recorder.add({ keyId: 'limited', model: 'iris', requests: 1 });
    recorder.add({ keyId: 'unlimited', model: 'iris', requests: 1 });
    const today = { from: '2026-04-02', to: '2026-04-02' };
    // Long before the minute: the limited key's write went out on the next turn (others may ride along).
    await expect
      .poll(async () => (await readUsage(client, 'usage', today, 'limited')).totals.requests, {
        timeout: 5000,
      })
      .toBe(1);
    await recorder.drain();
    expect((await readUsage(client, 'usage', today, 'unlimited')).totals.requests).toBe(1);
    recorder.close();
  });
});

describe('parseRange', () => {
  const now = Date.parse('2026-03-31T10:00:00Z');
  it('defaults to the last 30 days and checks dates', () => {
    expect(parseRange({}, now)).toEqual({ from: '2026-03-02', to: '2026-03-31' });
    expect(() => parseRange({ from: '2026-02-30' }, now)).toThrow(/"from" must be a date YYYY-MM-DD/);
    expect(() => parseRange({ from: '2026-04-01', to: '2026-03-01' }, now)).toThrow(/after "to"/);
    expect(() => parseRange({ from: '2020-01-01' }, now)).toThrow(/at most 400 days/);
  });
});
