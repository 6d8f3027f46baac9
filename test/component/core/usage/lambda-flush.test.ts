import { createServer, type ServerResponse } from 'node:http';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdUntilWritten, untracked } from '../../../../functions/core/usage/lambda-flush.ts';
import { UsageRecorder } from '../../../../functions/core/usage/recorder.ts';
import { readUsage } from '../../../../functions/core/usage/report.ts';
import { listenLoopback } from '../../../../local/net.ts';
import { startTestDynamo, type TestDynamo } from '../../../fixtures/dynamodb.ts';

let dynamo: TestDynamo;
let client: DynamoDBClient;
const TODAY = { from: '2026-05-01', to: '2026-05-01' };

beforeAll(async () => {
  dynamo = await startTestDynamo();
  client = dynamo.client;
});
afterAll(() => dynamo.close());

/** Lambda's side of the Extensions API: register, then `event/next` answered when the test sends an event. */
async function extensionsApi() {
  const registered: Array<{ name: unknown; events: unknown }> = [];
  const nexts: Array<(event: object) => void> = [];
  const waiters: Array<() => void> = [];
  const server = createServer((req, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      if (req.url === '/2020-01-01/extension/register') {
        registered.push({ name: req.headers['lambda-extension-name'], ...JSON.parse(body) });
        res.writeHead(200, { 'Lambda-Extension-Identifier': 'ext-1', 'Content-Type': 'application/json' });
        res.end('{}');
        return;
      }
      if (
        req.url === '/2020-01-01/extension/event/next' &&
        req.headers['lambda-extension-identifier'] === 'ext-1'
      ) {
        nexts.push((event) => res.end(JSON.stringify(event)));
        for (const w of waiters.splice(0)) w();
        return;
      }
      res.writeHead(404).end();
    });
  });
  const listening = await listenLoopback(server, 0);
  return {
    host: new URL(listening.url).host,
    registered,
    /** Calls of `event/next` so far: one more each time the extension is done with an event. */
    nextCalls: () => nexts.length,
    send: (event: object) => nexts.at(-1)?.(event),
    close: () => listening.close(),
  };
}

describe('holdUntilWritten', () => {
  it('asks for the next event only once the invocation’s usage is written', async () => {
    const lambda = await extensionsApi();
    // An interval longer than the test: only the extension's drain writes anything.
    const recorder = new UsageRecorder({
      client,
      table: 'usage',
      retentionDays: 1,
      flushIntervalMs: 600_000,
      now: () => Date.parse('2026-05-01T09:00:00Z'),
    });
    const errors: string[] = [];
    const tracker = await holdUntilWritten(lambda.host, recorder, 'modelgate-usage-api', {
      error: (m) => errors.push(m),
    });
    expect(lambda.registered).toEqual([{ name: 'modelgate-usage-api', events: ['INVOKE', 'SHUTDOWN'] }]);
    await expect.poll(lambda.nextCalls).toBe(1);

    lambda.send({ eventType: 'INVOKE', requestId: 'req-1', deadlineMs: Date.now() + 60_000 });
    const answer = await tracker.track(
      'req-1',
      (async () => {
        recorder.add({ keyId: 'team-a', model: 'iris', requests: 1, rows: 3 });
        return 'answered';
      })(),
    );
    // The handler's answer does not wait for the table.
    expect(answer).toBe('answered');
    await expect.poll(lambda.nextCalls).toBe(2);
    // Done with the invocation: by then its usage is in the table.
    const report = await readUsage(client, 'usage', TODAY, 'team-a');
    expect(report.totals).toMatchObject({ requests: 1, rows: 3 });

    // An INVOKE that comes before the handler ran waits for it, too.
    lambda.send({ eventType: 'INVOKE', requestId: 'req-2', deadlineMs: Date.now() + 60_000 });
    await tracker.track(
      'req-2',
      (async () => recorder.add({ keyId: 'team-a', model: 'iris', requests: 1, rows: 1 }))(),
    );
    await expect.poll(lambda.nextCalls).toBe(3);
    expect((await readUsage(client, 'usage', TODAY, 'team-a')).totals.requests).toBe(2);

    lambda.send({ eventType: 'SHUTDOWN', shutdownReason: 'spindown', deadlineMs: Date.now() + 2000 });
    await tracker.stopped;
    // Shut down: drained, and no further event asked for.
    expect(lambda.nextCalls()).toBe(3);
    expect(errors).toEqual([]);
    recorder.close();
    await lambda.close();
  });

  it('passes work through outside Lambda, and when registration is refused', async () => {
    const recorder = new UsageRecorder({ client, table: 'usage', retentionDays: 1 });
    const silent = { error: () => {} };
    expect(await holdUntilWritten(undefined, recorder, 'x', silent)).toBe(untracked);
    expect(await holdUntilWritten('127.0.0.1:9', undefined, 'x', silent)).toBe(untracked);
    const refusing = createServer((_req, res) =>
      res.writeHead(403).end('{"errorType":"Extension.Forbidden"}'),
    );
    const listening = await listenLoopback(refusing, 0);
    const errors: Array<Record<string, unknown>> = [];
    const refused = await holdUntilWritten(new URL(listening.url).host, recorder, 'x', {
      error: (_m, details) => errors.push(details),
    });
    expect(refused).toBe(untracked);
    expect(errors[0]?.error).toMatch(/register answered 403/);
    await expect(refused.track('r', Promise.resolve(7))).resolves.toBe(7);
    await listening.close();
  });
});
