/**
 * Generated requests (fast-check, fixed seed) to every route of the local topology, the demo language model
 * behind the chat routes: never a 5xx or internals, always a well-formed error of the route's protocol.
 */
import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';
import {
  chatBody,
  completionBody,
  contentType,
  duplicatedKey,
  encoded,
  FEATURES,
  inferBody,
  modelName,
  odd,
  predictBody,
  type Sent,
  version,
  wellFormedInfer,
} from '../fixtures/requests.ts';

/**
 * Property-based fuzzing of every route through the local gateway, with the
 * demo language model behind the chat routes: 10,000 generated requests per
 * run (fixed seed, so a failure replays), none may get a 5xx, crash the
 * process or leak internals, and every error is well formed for its route's
 * protocol with a message.
 */
let api: TestTopology;
beforeAll(async () => {
  api = await startTestTopology({ languageModels: true });
}, 90_000);
afterAll(() => api.close());

const SEED = 20261128;
/** What no answer may contain: stack frames, file paths, internals. */
const LEAKS = /(\bat \S+ \(|node_modules|\/work\/|\/tmp\/|\.ts:\d+|ECONNREFUSED|TypeError|ReferenceError)/;

function send(req: Sent): Promise<{ status: number; type: string; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = { 'x-api-key': api.apiKey, ...req.headers };
    const r = request(`${api.apiUrl}${req.path}`, { method: req.method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type'] ?? ''),
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(req.body);
  });
}

/** What API Gateway itself answers, by status: `{"message": ...}` bodies no function wrote. */
const GATEWAY_ANSWERS: Readonly<Record<number, readonly string[]>> = {
  403: ['Forbidden', 'Missing Authentication Token'],
  413: ['Request Too Large'],
  429: ['Too Many Requests', 'Limit Exceeded'],
  504: ['Endpoint request timed out'],
};

/**
 * The answer is a success or a well-formed error of the route's protocol; never a fault. A
 * request sent with its key twice is refused by the gateway (403 Forbidden), and only such a
 * request is: a gateway answering 403 to everything fails here.
 */
function check(req: Sent, res: { status: number; type: string; text: string }, protocol: 'v2' | 'openai') {
  const context = `${req.method} ${req.path} ${String(req.body ?? '').slice(0, 300)} -> ${res.status} ${res.text.slice(0, 300)}`;
  expect(res.status, context).toBeLessThan(500);
  expect(res.text, context).not.toMatch(LEAKS);
  const keyTwice = Array.isArray(req.headers?.['x-api-key']);
  if (keyTwice) expect(res.status, context).toBe(403);
  if (res.status < 400) return;
  const body = JSON.parse(res.text);
  if (typeof body.message === 'string' && Object.keys(body).length === 1) {
    // API Gateway's own answers: only its statuses and words, Forbidden only without a valid key.
    expect(GATEWAY_ANSWERS[res.status], context).toContain(body.message);
    if (body.message === 'Forbidden') expect(keyTwice, context).toBe(true);
    return;
  }
  expect(keyTwice, context).toBe(false);
  if (protocol === 'openai') {
    expect(typeof body.error?.message, context).toBe('string');
    expect(body.error.message.length, context).toBeGreaterThan(0);
  } else {
    expect(Object.keys(body), context).toEqual(['error']);
    expect(typeof body.error, context).toBe('string');
    expect(body.error.length, context).toBeGreaterThan(0);
  }
}

function withHeaders(req: Omit<Sent, 'headers'>, type: string, dup: boolean): Sent {
  const headers: Record<string, string | string[]> = { 'content-type': type };
  if (dup) headers['x-api-key'] = [api.apiKey, api.apiKey];
  return { ...req, headers };
}

/** Runs the property; returns how many answers had each status. */
async function property(arbitrary: fc.Arbitrary<Sent>, protocol: 'v2' | 'openai', numRuns: number) {
  const statuses: Record<number, number> = {};
  await fc.assert(
    fc.asyncProperty(arbitrary, async (req) => {
      const res = await send(req);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      check(req, res, protocol);
    }),
    { seed: SEED, numRuns, endOnFailure: true },
  );
  return statuses;
}

describe('generated requests to every route: never a 5xx, never internals, always a well-formed error', () => {
  it('V2 inference, latest and pinned versions (3,000 cases)', async () => {
    const arbitrary = fc
      .tuple(modelName, fc.option(version), encoded(inferBody), contentType, duplicatedKey)
      .map(([m, v, body, type, dup]) =>
        withHeaders(
          {
            method: 'POST',
            path: v === null ? `/v2/models/${m}/infer` : `/v2/models/${m}/versions/${v}/infer`,
            body,
          },
          type,
          dup,
        ),
      );
    const wellFormed = fc
      .tuple(wellFormedInfer, fc.option(fc.constantFrom('1', '2')))
      .map(([{ model, body }, v]) => ({
        method: 'POST' as const,
        path: v === null ? `/v2/models/${model}/infer` : `/v2/models/${model}/versions/${v}/infer`,
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      }));
    const statuses = await property(fc.oneof(arbitrary, wellFormed), 'v2', 3000);
    // Both kinds arrive: the fuzz reaches the model, not only the validators.
    expect(statuses[200] ?? 0).toBeGreaterThan(500);
    expect(statuses[400] ?? 0).toBeGreaterThan(500);
  }, 180_000);

  it('simple predict (2,500 cases)', async () => {
    const arbitrary = fc
      .tuple(modelName, encoded(predictBody), contentType, duplicatedKey)
      .map(([m, body, type, dup]) =>
        withHeaders({ method: 'POST', path: `/v1/models/${m}/predict`, body }, type, dup),
      );
    const wellFormed = wellFormedInfer.map(({ model, body }) => ({
      method: 'POST' as const,
      path: `/v1/models/${model}/predict`,
      body: JSON.stringify({
        instances:
          body.inputs[0]?.data.length === body.inputs[0]?.shape[0]
            ? body.inputs[0]?.data
            : [body.inputs[0]?.data.slice(0, FEATURES[model])],
      }),
      headers: { 'content-type': 'application/json' },
    }));
    const statuses = await property(fc.oneof(arbitrary, wellFormed), 'v2', 2500);
    expect(statuses[200] ?? 0).toBeGreaterThan(500);
  }, 180_000);

  it('metadata, readiness, model lists and batch status (1,500 cases)', async () => {
    const arbitrary = fc
      .tuple(
        fc.constantFrom(
          '/v2/models/M',
          '/v2/models/M/versions/V',
          '/v2/models/M/ready',
          '/v2/models/M/versions/V/ready',
          '/v2/models',
          '/v1/batches/M',
          '/v2/health/ready',
        ),
        modelName,
        version,
      )
      .map(([template, m, v]) => ({
        method: 'GET' as const,
        path: template.replace('M', m).replace('V', v),
      }));
    const statuses = await property(arbitrary, 'v2', 1500);
    // Found, refused and missing all arrive: the routes are reached, not only the gateway.
    expect(statuses[200] ?? 0).toBeGreaterThan(300);
    expect(statuses[400] ?? 0).toBeGreaterThan(100);
    expect(statuses[404] ?? 0).toBeGreaterThan(50);
  }, 180_000);

  it('batch submission (500 cases)', async () => {
    const body = fc.record(
      {
        model: fc.oneof(modelName, odd),
        input: fc.oneof(
          fc.constantFrom(
            'batch/input/iris/x.jsonl',
            'batch/input/../models/iris/1/model.onnx',
            '../../etc/passwd',
            'batch/input/',
            'models/iris/aliases.json',
          ),
          fc.string({ maxLength: 30 }),
          odd,
        ),
      },
      { requiredKeys: [] },
    );
    const arbitrary = fc
      .tuple(encoded(body), contentType, duplicatedKey)
      .map(([b, type, dup]) => withHeaders({ method: 'POST', path: '/v1/batches', body: b }, type, dup));
    const statuses = await property(arbitrary, 'v2', 500);
    // Malformed submissions reach the function and are refused there, most of them with 400.
    expect(statuses[400] ?? 0).toBeGreaterThan(250);
  }, 180_000);

  it('OpenAI chat and text completions (2,500 cases)', async () => {
    const chat = fc
      .tuple(encoded(chatBody), contentType, duplicatedKey)
      .map(([b, type, dup]) =>
        withHeaders({ method: 'POST', path: '/v1/chat/completions', body: b }, type, dup),
      );
    const wellFormed = fc
      .record({
        messages: fc.array(
          fc.record({
            role: fc.constantFrom('user', 'system', 'assistant'),
            content: fc.string({ maxLength: 40 }),
          }),
          { minLength: 1, maxLength: 3 },
        ),
        max_tokens: fc.integer({ min: 1, max: 4 }),
        stream: fc.boolean(),
        temperature: fc.double({ min: 0, max: 2, noNaN: true }),
        seed: fc.integer({ min: 0, max: 1000 }),
      })
      .map((b) => ({
        method: 'POST' as const,
        path: '/v1/chat/completions',
        body: JSON.stringify({ model: 'demo-lm', ...b }),
        headers: { 'content-type': 'application/json' },
      }));
    const statuses = await property(fc.oneof(chat, wellFormed), 'openai', 2000);
    expect(statuses[200] ?? 0).toBeGreaterThan(300);
    const completions = fc
      .tuple(encoded(completionBody), contentType)
      .map(([b, type]) => withHeaders({ method: 'POST', path: '/v1/completions', body: b }, type, false));
    await property(completions, 'openai', 500);
  }, 240_000);

  it('bodies at and over the 10 MB limit answer 413 without reaching the function', async () => {
    const big = `{"instances": [[${'1,'.repeat(5 * 1024 * 1024)}1]]}`;
    for (const path of ['/v1/models/iris/predict', '/v2/models/iris/infer', '/v1/chat/completions']) {
      const res = await send({
        method: 'POST',
        path,
        body: big,
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status).toBe(413);
      expect(JSON.parse(res.text)).toEqual({ message: 'Request Too Large' });
    }
  });
});
