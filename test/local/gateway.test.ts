/**
 * The API Gateway emulator answering as API Gateway does, in front of handlers of the test's own (keys, routes,
 * the v1 proxy event, metrics and access log, throttles and quotas under load, integration faults) and in
 * front of the real api function on the local topology.
 */
import autocannon from 'autocannon';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Counters } from '../../functions/core/counters.ts';
import { lambdaStreaming, type StreamingHandler } from '../../functions/core/streaming.ts';
import {
  type GatewayOptions,
  type LocalGateway,
  type ProxyHandler,
  startGateway,
} from '../../local/gateway/gateway.ts';
import { installLambdaStreamingRuntime } from '../../local/gateway/lambda-runtime.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

installLambdaStreamingRuntime();
const { streamifyResponse, HttpResponseStream } = lambdaStreaming();

const KEY = 'gateway-test-key-000000000';
const ok: ProxyHandler = async () => ({ statusCode: 200, body: '{"ok":true}' });

let gateway: LocalGateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

/** A gateway in front of a handler of the test's own: the faults API Gateway must answer for. */
async function gatewayWith(handler: ProxyHandler, over: Partial<GatewayOptions> = {}) {
  gateway = await startGateway({
    routes: [
      { method: 'GET', resource: '/things/{id}', apiKeyRequired: true, handler },
      { method: 'GET', resource: '/open', apiKeyRequired: false, handler },
      { method: 'POST', resource: '/posted', apiKeyRequired: false, handler },
    ],
    apiKeys: [{ id: 'k1', value: KEY, plan: { name: 'p' } }],
    port: 0,
    ...over,
  });
  return (path: string, key: string | null = KEY) =>
    fetch(`${gateway?.url}${path}`, { headers: key ? { 'x-api-key': key } : {} }).then(async (r) => ({
      status: r.status,
      json: await r.json(),
    }));
}

describe('gateway emulator: API keys and routes', () => {
  it('refuses a missing or unknown key with 403 Forbidden, but not on open routes', async () => {
    const get = await gatewayWith(ok);
    expect(await get('/things/1', null)).toEqual({ status: 403, json: { message: 'Forbidden' } });
    expect(await get('/things/1', 'wrong-key')).toEqual({ status: 403, json: { message: 'Forbidden' } });
    expect(await get('/things/1')).toEqual({ status: 200, json: { ok: true } });
    expect(await get('/open', null)).toEqual({ status: 200, json: { ok: true } });
  });

  it('answers an unknown resource or method as API Gateway does', async () => {
    const get = await gatewayWith(ok);
    expect(await get('/nothing')).toEqual({ status: 403, json: { message: 'Missing Authentication Token' } });
    const post = await fetch(`${gateway?.url}/open`, { method: 'POST' });
    expect(post.status).toBe(403);
  });

  it('serves its counters at /metrics and writes one access-log line per request, never the key', async () => {
    const lines: string[] = [];
    const metrics = new Counters();
    const get = await gatewayWith(
      async () => ({ statusCode: 200, body: '{}', headers: { 'x-modelgate-model-version': '7' } }),
      {
        metrics,
        accessLog: (line) => lines.push(line),
      },
    );
    await get('/things/1');
    await get('/things/2', null);
    const scrape = await fetch(`${gateway?.url}/metrics`);
    expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await scrape.text();
    expect(text).toContain(
      'modelgate_gateway_requests_total{method="GET",resource="/things/{id}",code="200"} 1\n',
    );
    expect(text).toContain(
      'modelgate_gateway_requests_total{method="GET",resource="/things/{id}",code="403"} 1\n',
    );
    expect(text).toContain(
      'modelgate_gateway_request_duration_seconds_count{method="GET",resource="/things/{id}"} 2\n',
    );
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^127\.0\.0\.1 k1 \[\d{4}-\d\d-\d\dT[\d:.]+Z\] "GET \/things\/1 HTTP\/1\.1" 200 2 [\d.]+ms v=7 [0-9a-f-]{36}$/,
    );
    expect(lines[1]).toMatch(/^127\.0\.0\.1 - \[.*\] "GET \/things\/2 HTTP\/1\.1" 403 /);
    expect(lines.join('\n')).not.toContain(KEY);
  });

  it('hands the handler a REST proxy event (v1)', async () => {
    let seen: APIGatewayProxyEvent | undefined;
    const get = await gatewayWith(async (event) => {
      seen = event;
      return { statusCode: 200, body: '{}' };
    });
    await fetch(`${gateway?.url}/things/a%20b?x=1&x=2`, { headers: { 'x-api-key': KEY, 'X-Custom': 'v' } });
    expect(seen).toMatchObject({
      resource: '/things/{id}',
      path: '/things/a%20b',
      httpMethod: 'GET',
      pathParameters: { id: 'a b' },
      queryStringParameters: { x: '2' },
      multiValueQueryStringParameters: { x: ['1', '2'] },
      stageVariables: null,
      body: null,
      isBase64Encoded: false,
      requestContext: {
        resourcePath: '/things/{id}',
        stage: 'local',
        path: '/local/things/a%20b',
        identity: { apiKey: KEY, apiKeyId: 'k1', sourceIp: '127.0.0.1' },
      },
    });
    // Header names keep the case the client sent, as API Gateway passes them.
    const name = Object.keys(seen?.headers ?? {}).find((h) => h.toLowerCase() === 'x-custom') ?? '';
    expect(seen?.headers[name]).toBe('v');
    expect(seen?.multiValueHeaders[name]).toEqual(['v']);
    await get('/open', null);
    expect(seen?.pathParameters).toBeNull();
    expect(seen?.queryStringParameters).toBeNull();
  });
});

describe('gateway emulator: usage plans', () => {
  it('throttles a burst over the limit with 429 Too Many Requests and lets the rest through', async () => {
    let clock = 0;
    const get = await gatewayWith(ok, {
      apiKeys: [{ id: 'k1', value: KEY, plan: { name: 'p', throttle: { rateLimit: 2, burstLimit: 3 } } }],
      now: () => clock,
    });
    const burst = await Promise.all(Array.from({ length: 8 }, () => get('/things/1')));
    expect(burst.filter((r) => r.status === 200)).toHaveLength(3);
    expect(burst.filter((r) => r.status === 429).map((r) => r.json)).toEqual(
      Array(5).fill({ message: 'Too Many Requests' }),
    );
    clock = 1000;
    const refilled = await Promise.all(Array.from({ length: 3 }, () => get('/things/1')));
    expect(refilled.map((r) => r.status).sort()).toEqual([200, 200, 429]);
  });

  it('stops a key at its quota with 429 Limit Exceeded until the period turns', async () => {
    let clock = Date.UTC(2026, 0, 1, 12);
    const get = await gatewayWith(ok, {
      apiKeys: [{ id: 'k1', value: KEY, plan: { name: 'p', quota: { limit: 2, period: 'DAY' } } }],
      now: () => clock,
    });
    expect((await get('/things/1')).status).toBe(200);
    expect((await get('/things/1')).status).toBe(200);
    expect(await get('/things/1')).toEqual({ status: 429, json: { message: 'Limit Exceeded' } });
    clock = Date.UTC(2026, 0, 2, 0, 0, 1);
    expect((await get('/things/1')).status).toBe(200);
  });

  it.each([
    // 2026-01-04 is a Sunday: the week turns at Monday 00:00 UTC, the month on the 1st.
    ['WEEK', Date.UTC(2026, 0, 4, 23, 59), Date.UTC(2026, 0, 5, 0, 0)],
    ['MONTH', Date.UTC(2026, 0, 31, 23, 59), Date.UTC(2026, 1, 1, 0, 0)],
  ] as const)('turns a %s quota at its UTC boundary, not before', async (period, last, next) => {
    let clock = last - 60_000;
    const get = await gatewayWith(ok, {
      apiKeys: [{ id: 'k1', value: KEY, plan: { name: 'p', quota: { limit: 1, period } } }],
      now: () => clock,
    });
    expect((await get('/things/1')).status).toBe(200);
    clock = last;
    expect((await get('/things/1')).status).toBe(429);
    clock = next;
    expect((await get('/things/1')).status).toBe(200);
    expect((await get('/things/1')).status).toBe(429);
  });
});

describe('gateway emulator: usage plans under load (autocannon, 64 connections)', () => {
  it('lets exactly the burst plus the rate through a sustained overload, the rest 429', async () => {
    let clock = 0;
    await gatewayWith(ok, {
      apiKeys: [{ id: 'k1', value: KEY, plan: { name: 'p', throttle: { rateLimit: 50, burstLimit: 100 } } }],
      now: () => clock,
    });
    // A controlled clock: 4 "seconds" pass over the run, a tick every 100 requests.
    let sent = 0;
    const result = await autocannon({
      url: `${gateway?.url}/things/1`,
      headers: { 'x-api-key': KEY },
      connections: 64,
      amount: 2000,
      setupClient: (client) => {
        client.on('response', () => {
          sent++;
          if (sent % 100 === 0 && clock < 4000) clock += 200;
        });
      },
    });
    const ok200 = result['2xx'];
    const throttled = result.statusCodeStats?.['429']?.count ?? 0;
    expect(ok200 + throttled).toBe(2000);
    expect(result.errors).toBe(0);
    // Token bucket: full burst, then 50 a second over the 4 seconds the clock moved.
    expect(ok200).toBeGreaterThanOrEqual(100 + 50 * 4 - 64);
    expect(ok200).toBeLessThanOrEqual(100 + 50 * 4);
  });

  it('stops at the quota exactly, however many requests arrive at once', async () => {
    await gatewayWith(ok, {
      apiKeys: [{ id: 'k1', value: KEY, plan: { name: 'p', quota: { limit: 300, period: 'DAY' } } }],
    });
    const result = await autocannon({
      url: `${gateway?.url}/things/1`,
      headers: { 'x-api-key': KEY },
      connections: 64,
      amount: 1000,
    });
    expect(result['2xx']).toBe(300);
    expect(result.statusCodeStats?.['429']?.count).toBe(700);
    const after = await fetch(`${gateway?.url}/things/1`, { headers: { 'x-api-key': KEY } });
    expect(await after.json()).toEqual({ message: 'Limit Exceeded' });
  });
});

describe('gateway emulator: integration faults', () => {
  it('answers 504 when the integration passes its timeout', async () => {
    const get = await gatewayWith(
      () => new Promise((done) => setTimeout(done, 2000, { statusCode: 200, body: '' })),
      {
        timeoutMs: 100,
      },
    );
    expect(await get('/things/1')).toEqual({ status: 504, json: { message: 'Endpoint request timed out' } });
  });

  it("answers 413 for an event over Lambda's 6 MB invoke limit, before the function runs", async () => {
    let called = false;
    await gatewayWith(async () => {
      called = true;
      return { statusCode: 200, body: '' };
    });
    const response = await fetch(`${gateway?.url}/posted`, {
      method: 'POST',
      body: 'x'.repeat(7 * 1024 * 1024),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ message: 'Request Too Large' });
    expect(called).toBe(false);
  });

  it('answers 502 when the function answers more than Lambda lets through', async () => {
    const get = await gatewayWith(async () => ({ statusCode: 200, body: 'x'.repeat(6 * 1024 * 1024 + 200) }));
    expect(await get('/things/1')).toEqual({ status: 502, json: { message: 'Internal server error' } });
  });

  it.each([
    ['a non-numeric status', async () => ({ statusCode: 'ok', body: '' })],
    ['a body that is not a string', async () => ({ statusCode: 200, body: { a: 1 } })],
    ['no answer at all', async () => undefined],
    ['a thrown error', async () => Promise.reject(new Error('boom'))],
    [
      'a handler that throws before returning a promise',
      () => {
        throw new Error('boom');
      },
    ],
    ['a handler that returns no promise', () => ({ statusCode: 200, body: '' })],
    [
      'a header value HTTP forbids',
      async () => ({ statusCode: 200, headers: { 'x-a': 'b\r\nc' }, body: '' }),
    ],
    ['a header name HTTP forbids', async () => ({ statusCode: 200, headers: { 'x a': 'b' }, body: '' })],
  ])('answers 502 Internal server error for %s', async (_, handler) => {
    const get = await gatewayWith(handler as ProxyHandler);
    expect(await get('/things/1')).toEqual({ status: 502, json: { message: 'Internal server error' } });
  });

  it.each([
    ['buffered', 'GET'],
    ['streamed', 'POST'],
  ])(
    "answers a %s function's header HTTP forbids with a clean 502: none of its headers, its request id",
    async (_, method) => {
      const headers = { 'x-ok': '1', 'x a': 'b' };
      const buffered: ProxyHandler = async () => ({ statusCode: 404, headers, body: '{}' });
      const streamed: StreamingHandler = streamifyResponse(async (_event, stream) => {
        HttpResponseStream.from(stream, { statusCode: 404, headers }).end('{}');
      });
      gateway = await startGateway({
        routes: [
          { method: 'GET', resource: '/bad', apiKeyRequired: false, handler: buffered },
          { method: 'POST', resource: '/bad', apiKeyRequired: false, handler: streamed },
        ],
        apiKeys: [],
        port: 0,
      });
      const response = await fetch(`${gateway.url}/bad`, { method });
      expect([response.status, response.statusText]).toEqual([502, 'Bad Gateway']);
      expect(response.headers.get('x-ok')).toBeNull();
      expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
      expect(await response.json()).toEqual({ message: 'Internal server error' });
    },
  );

  it('answers 502 for a streamed function that throws before returning a promise', async () => {
    const streamed: StreamingHandler = streamifyResponse((() => {
      throw new Error('boom');
    }) as unknown as StreamingHandler);
    gateway = await startGateway({
      routes: [{ method: 'POST', resource: '/streamed', apiKeyRequired: false, handler: streamed }],
      apiKeys: [],
      port: 0,
    });
    const response = await fetch(`${gateway.url}/streamed`, { method: 'POST' });
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ message: 'Internal server error' });
  });
});

describe('gateway emulator in front of the api function', () => {
  let api: TestTopology;
  beforeAll(async () => {
    api = await startTestTopology();
  });
  afterAll(() => api.close());

  it('refuses a body over 10 MB with 413 before the function runs', async () => {
    const big = JSON.stringify({ instances: [[1, 2, 3, 4]], pad: 'x'.repeat(10 * 1024 * 1024) });
    const { status, json } = await api.call('/v1/models/iris/predict', { body: big });
    expect(status).toBe(413);
    expect(json).toEqual({ message: 'Request Too Large' });
  });

  it('requires the key on model routes', async () => {
    expect(await api.call('/v2/models', { key: null })).toMatchObject({
      status: 403,
      json: { message: 'Forbidden' },
    });
    expect(
      (await api.call('/v1/models/iris/predict', { key: 'nope', body: { instances: [[1, 2, 3, 4]] } }))
        .status,
    ).toBe(403);
  });
});
