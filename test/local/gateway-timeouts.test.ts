/**
 * API Gateway's integration timeouts, shortened, in the gateway emulator and end to end on the local topology
 * with a slow-streaming container of the test's own: buffered 504s, long streams kept, streams cut at the
 * streamed and idle limits with the generation stopped upstream, and the limits read from the environment.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { lambdaStreaming, type StreamingHandler } from '../../functions/core/streaming.ts';
import { parseConfig } from '../../infra/config.ts';
import { type LocalGateway, type ProxyHandler, startGateway } from '../../local/gateway/gateway.ts';
import { installLambdaStreamingRuntime } from '../../local/gateway/lambda-runtime.ts';
import { localOptionsFromEnv } from '../../local/topology.ts';
import { loopbackUrl, testContainer } from '../fixtures/containers.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

/**
 * API Gateway's timeouts, shortened: 29 s on a buffered integration, the configured integration
 * timeout over a whole streamed answer, and the idle timeout between two streamed bytes.
 */
const LIMITS = { timeoutMs: 300, streamTimeoutMs: 3000, streamIdleTimeoutMs: 1000 };

installLambdaStreamingRuntime();
const { streamifyResponse, HttpResponseStream } = lambdaStreaming();

describe('gateway emulator: buffered and streamed integration timeouts', () => {
  let gateway: LocalGateway | undefined;
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
  });

  /** A buffered and a streamed route whose function answers after `waitMs`. */
  async function slowRoutes(waitMs: number) {
    const buffered: ProxyHandler = () =>
      new Promise((done) => setTimeout(done, waitMs, { statusCode: 200, body: '{"whole":true}' }));
    const streamed: StreamingHandler = streamifyResponse(async (_event, stream) => {
      await new Promise((done) => setTimeout(done, waitMs));
      HttpResponseStream.from(stream, { statusCode: 200, headers: { 'Content-Type': 'text/plain' } }).end(
        'streamed',
      );
    });
    gateway = await startGateway({
      routes: [
        { method: 'GET', resource: '/buffered', apiKeyRequired: false, handler: buffered },
        { method: 'GET', resource: '/streamed', apiKeyRequired: false, handler: streamed },
      ],
      apiKeys: [],
      port: 0,
      ...LIMITS,
    });
    return (path: string) =>
      fetch(`${gateway?.url}${path}`).then(async (r) => ({ status: r.status, text: await r.text() }));
  }

  it('lets a streamed answer outlive the buffered limit, where a buffered one is a 504', async () => {
    const get = await slowRoutes(LIMITS.timeoutMs + 400);
    expect(await get('/buffered')).toEqual({ status: 504, text: '{"message":"Endpoint request timed out"}' });
    expect(await get('/streamed')).toEqual({ status: 200, text: 'streamed' });
  });

  it('answers 504 when a streamed function sends no status within the streamed limit', async () => {
    const get = await slowRoutes(LIMITS.streamTimeoutMs + 1000);
    expect(await get('/streamed')).toEqual({ status: 504, text: '{"message":"Endpoint request timed out"}' });
  });
});

/**
 * An OpenAI-compatible model server that streams slowly: the user message says how many tokens,
 * how far apart, when the first comes, and after how many it stalls. Behind the real SageMaker Runtime emulator and chat
 * function, it makes a generation last as long as a test needs.
 */
let container: Server;
let api: TestTopology;
const accessLog: string[] = [];
const open = new Set<IncomingMessage>();

function slowGeneration(body: string, req: IncomingMessage, res: ServerResponse) {
  const request = JSON.parse(body) as { messages: Array<{ content: string }> };
  const plan = JSON.parse(request.messages.at(-1)?.content ?? '{}') as {
    tokens: number;
    everyMs: number;
    firstAfterMs?: number;
    stallAfter?: number;
  };
  open.add(req);
  res.on('close', () => open.delete(req));
  res.writeHead(200, { 'Content-Type': 'text/event-stream' });
  const chunk = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'slow', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    timer = setInterval(() => {
      if (plan.stallAfter !== undefined && sent >= plan.stallAfter) return;
      if (sent === plan.tokens) {
        clearInterval(timer);
        res.end(`${chunk({}, 'stop')}data: [DONE]\n\n`);
        return;
      }
      res.write(chunk({ content: `t${sent} ` }, null));
      sent++;
    }, plan.everyMs);
  }, plan.firstAfterMs ?? 0);
  res.on('close', () => {
    clearTimeout(first);
    clearInterval(timer);
  });
}

beforeAll(async () => {
  container = await testContainer(slowGeneration);
  const config = parseConfig({
    largeModels: [
      {
        name: 'slow-llm',
        container: 'my/slow-server:1',
        protocol: 'openai',
        hfModelId: 'org/model',
        instanceType: 'ml.g5.xlarge',
        localUrl: loopbackUrl(container),
      },
    ],
  });
  api = await startTestTopology({
    config,
    languageModels: true,
    ...LIMITS,
    accessLog: (line) => accessLog.push(line),
  });
}, 90_000);
afterAll(async () => {
  await api.close();
  container.close();
});

type Plan = { tokens: number; everyMs: number; firstAfterMs?: number; stallAfter?: number };

const generation = (plan: Plan) => ({
  model: 'slow-llm',
  messages: [{ role: 'user' as const, content: JSON.stringify(plan) }],
  stream: true as const,
});

/** Posts a streamed chat request and reads what arrives until the body ends or the connection is cut. */
async function readStream(plan: Plan) {
  const started = performance.now();
  const response = await fetch(`${api.apiUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': api.apiKey },
    body: JSON.stringify(generation(plan)),
  });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = '';
  let error: Error | undefined;
  try {
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      text += decoder.decode(read.value, { stream: true });
    }
  } catch (cause) {
    error = cause as Error;
  }
  return { status: response.status, text, error, ms: performance.now() - started };
}

describe('a long generation end to end, under API Gateway limits (shortened)', () => {
  it('streams a generation whose first token alone outlives the buffered limit to its end, with the OpenAI SDK', async () => {
    const client = new OpenAI({ apiKey: api.apiKey, baseURL: `${api.apiUrl}/v1`, maxRetries: 0 });
    const started = performance.now();
    const stream = await client.chat.completions.create(
      generation({ tokens: 16, everyMs: 60, firstAfterMs: LIMITS.timeoutMs + 200 }),
    );
    let text = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(performance.now() - started).toBeGreaterThan(LIMITS.timeoutMs);
    expect(text).toBe(Array.from({ length: 16 }, (_, i) => `t${i} `).join(''));
    expect(finish).toBe('stop');
  });

  it('cuts a generation that passes the streamed limit: a truncated transfer, and the model stops', async () => {
    const { status, text, error, ms } = await readStream({ tokens: 1000, everyMs: 50 });
    expect(status).toBe(200);
    expect(text).toContain('"content":"t0 "');
    expect(text).not.toContain('[DONE]');
    expect(error).toBeInstanceOf(TypeError); // fetch: "terminated", the body's end never came
    expect(ms).toBeGreaterThanOrEqual(LIMITS.streamTimeoutMs - 50);
    expect(ms).toBeLessThan(LIMITS.streamTimeoutMs + 1500);
    // The cut closes the function's stream, which aborts its call to the endpoint.
    await vi.waitFor(() => expect(open.size).toBe(0), { timeout: 5000 });
    await vi.waitFor(() =>
      expect(accessLog.at(-1)).toMatch(/"POST \/v1\/chat\/completions HTTP\/1\.1" 504 /),
    );
  });

  it('cuts a generation that stalls past the idle limit, well before the streamed limit', async () => {
    const { status, text, error, ms } = await readStream({ tokens: 1000, everyMs: 50, stallAfter: 3 });
    expect(status).toBe(200);
    expect(text).toContain('"content":"t2 "');
    expect(text).not.toContain('t3 ');
    expect(error).toBeInstanceOf(TypeError);
    expect(ms).toBeGreaterThanOrEqual(LIMITS.streamIdleTimeoutMs);
    expect(ms).toBeLessThan(LIMITS.streamTimeoutMs);
    await vi.waitFor(() => expect(open.size).toBe(0), { timeout: 5000 });
  });
});

describe('local limits from the environment', () => {
  it('reads the three gateway timeouts, and refuses what is not a number of milliseconds', () => {
    const config = parseConfig({});
    expect(
      localOptionsFromEnv(config, {
        MODELGATE_GATEWAY_TIMEOUT_MS: '500',
        MODELGATE_STREAM_TIMEOUT_MS: '5000',
        MODELGATE_STREAM_IDLE_TIMEOUT_MS: '2000',
      }),
    ).toMatchObject({ timeoutMs: 500, streamTimeoutMs: 5000, streamIdleTimeoutMs: 2000 });
    expect(localOptionsFromEnv(config, {}).streamTimeoutMs).toBeUndefined();
    expect(() => localOptionsFromEnv(config, { MODELGATE_STREAM_IDLE_TIMEOUT_MS: '5m' })).toThrow(
      "MODELGATE_STREAM_IDLE_TIMEOUT_MS must be a whole number of milliseconds (1 or more), got '5m'",
    );
  });
});
