/**
 * The usage flush extension against a loopback Lambda Extensions API and dynalite: Lambda is told an
 * invocation is done only once its usage is in the table, never later than the invocation's deadline,
 * and an extension that can no longer ask for events says so instead of holding later invocations.
 */
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

/**
 * Lambda's side of the Extensions API: register (refusing SHUTDOWN, as Lambda does for an
 * extension that is not a file under /opt/extensions), `event/next` answered when the test sends
 * an event or with `failNext`'s status, and `exit/error` recorded.
 */
async function extensionsApi(options: { failNext?: number } = {}) {
  const registered: Array<{ name: unknown; events: unknown }> = [];
  const exitErrors: string[] = [];
  const nexts: Array<(event: object) => void> = [];
  const server = createServer((req, res: ServerResponse) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      if (req.url === '/2020-01-01/extension/register') {
        const request = JSON.parse(body) as { events: string[] };
        if (request.events.includes('SHUTDOWN')) {
          res.writeHead(400).end('{"errorType":"Extension.InvalidRequest"}');
          return;
        }
        registered.push({ name: req.headers['lambda-extension-name'], ...request });
        res.writeHead(200, { 'Lambda-Extension-Identifier': 'ext-1', 'Content-Type': 'application/json' });
        res.end('{}');
        return;
      }
      if (req.headers['lambda-extension-identifier'] !== 'ext-1') {
        res.writeHead(403).end();
      } else if (req.url === '/2020-01-01/extension/event/next') {
        if (options.failNext) res.writeHead(options.failNext).end('{"errorType":"Extension.Unknown"}');
        else nexts.push((event) => res.end(JSON.stringify(event)));
      } else if (req.url === '/2020-01-01/extension/exit/error') {
        exitErrors.push(String(req.headers['lambda-extension-function-error-type']));
        res.writeHead(202).end('{}');
      } else {
        res.writeHead(404).end();
      }
    });
  });
  const listening = await listenLoopback(server, 0);
  return {
    host: new URL(listening.url).host,
    registered,
    exitErrors,
    /** Calls of `event/next` so far: one more each time the extension is done with an event. */
    nextCalls: () => nexts.length,
    send: (event: object) => nexts.at(-1)?.(event),
    close: () => listening.close(),
  };
}

/** The test's DynamoDB client with its sends held until `release()`: a table that has not answered yet. */
function heldClient() {
  let release = () => {};
  let sends = 0;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const held = new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (...args: Parameters<DynamoDBClient['send']>) => {
        sends++;
        await gate;
        return target.send(...args);
      };
    },
  });
  return { held, release, sends: () => sends };
}

/** A recorder whose interval is longer than the test: only a drain writes anything. */
const recorderOver = (dynamodb: DynamoDBClient) =>
  new UsageRecorder({
    client: dynamodb,
    table: 'usage',
    retentionDays: 1,
    flushIntervalMs: 600_000,
    now: () => Date.parse('2026-05-01T09:00:00Z'),
  });

describe('holdUntilWritten', () => {
  it('asks for the next event only once the invocation’s usage is in the table', async () => {
    const lambda = await extensionsApi();
    const table = heldClient();
    const recorder = recorderOver(table.held);
    const errors: string[] = [];
    const tracker = await holdUntilWritten(lambda.host, recorder, 'modelgate-usage-api', {
      error: (m) => errors.push(m),
    });
    // INVOKE only: internal extensions may not register for SHUTDOWN.
    expect(lambda.registered).toEqual([{ name: 'modelgate-usage-api', events: ['INVOKE'] }]);
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
    // The table has not answered the write: Lambda is not told the invocation is done.
    await expect.poll(table.sends).toBe(1);
    expect(lambda.nextCalls()).toBe(1);
    table.release();
    await expect.poll(lambda.nextCalls).toBe(2);
    // Done with the invocation: by then its usage is in the table.
    expect((await readUsage(client, 'usage', TODAY, 'team-a')).totals).toMatchObject({
      requests: 1,
      rows: 3,
    });

    // The next invocation, whichever of its INVOKE and its handler comes first.
    lambda.send({ eventType: 'INVOKE', requestId: 'req-2', deadlineMs: Date.now() + 60_000 });
    await tracker.track(
      'req-2',
      (async () => recorder.add({ keyId: 'team-a', model: 'iris', requests: 1, rows: 1 }))(),
    );
    await expect.poll(lambda.nextCalls).toBe(3);
    expect((await readUsage(client, 'usage', TODAY, 'team-a')).totals.requests).toBe(2);
    expect(errors).toEqual([]);
    recorder.close();
    await lambda.close();
  });

  it('asks for the next event at the invocation’s deadline even if the table never answers', async () => {
    const lambda = await extensionsApi();
    const table = heldClient();
    const recorder = recorderOver(table.held);
    const tracker = await holdUntilWritten(lambda.host, recorder, 'x', { error: () => {} });
    await expect.poll(lambda.nextCalls).toBe(1);
    lambda.send({ eventType: 'INVOKE', requestId: 'req-1', deadlineMs: Date.now() + 1500 });
    await tracker.track('req-1', (async () => recorder.add({ keyId: 'k', model: 'm', requests: 1 }))());
    await expect.poll(lambda.nextCalls, { timeout: 5000 }).toBe(2);
    table.release();
    recorder.close();
    await lambda.close();
  });

  it('reports a failure to ask for events to Lambda, rather than hold every later invocation', async () => {
    const lambda = await extensionsApi({ failNext: 500 });
    const recorder = recorderOver(client);
    const errors: Array<Record<string, unknown>> = [];
    const tracker = await holdUntilWritten(lambda.host, recorder, 'x', {
      error: (_m, details) => errors.push(details),
    });
    await tracker.stopped;
    expect(lambda.exitErrors).toEqual(['Extension.UsageFlush']);
    expect(errors[0]?.error).toMatch(/event\/next answered 500/);
    recorder.close();
    await lambda.close();
  });

  it('passes work through outside Lambda, without usage, and when registration is refused', async () => {
    const recorder = recorderOver(client);
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
    recorder.close();
    await listening.close();
  });
});
