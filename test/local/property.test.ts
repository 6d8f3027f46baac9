import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { V2_DATATYPES } from '../../functions/core/protocols/datatypes.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

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

interface Sent {
  method: 'GET' | 'POST';
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string | string[]>;
}

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

const MODELS = ['iris', 'linear', 'diabetes', 'iris-logistic'];
const modelName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...MODELS) },
  fc.constantFrom(
    '..',
    '../etc',
    '%2e%2e',
    '%2e%2e%2fmodels',
    'models%2f..%2f..%2fx',
    '..%2f..%2fetc%2fpasswd',
    '%00',
    '%E2%80%AE',
    'IRIS',
    '%EF%BD%89%EF%BD%92%EF%BD%89%EF%BD%93',
    'a'.repeat(64),
    '%F0%9F%98%80',
    '-iris',
    'nope',
  ),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);
const version = fc.oneof(
  fc.constantFrom('1', '2', '0', '-1', '1.5', '1e3', '01', '99999999999999999999', '%20', 'latest'),
  fc.string({ maxLength: 5 }).map(encodeURIComponent),
);
const odd = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1e308, -0.5, '', 'NaN', [], {}, [[]], [null]),
  fc.double(),
  fc.string({ maxLength: 20 }),
);
const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  fc.integer(),
);
const shape = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: -3, max: 6 }) },
    fc.constantFrom(1e12, 2 ** 53, 0.5, -0.5),
    odd,
  ),
  { maxLength: 4 },
);
const flat = fc.array(fc.oneof({ weight: 4, arbitrary: number }, odd), { maxLength: 24 });
const nested = fc.array(fc.array(fc.oneof({ weight: 4, arbitrary: number }, odd), { maxLength: 10 }), {
  maxLength: 4,
});
const tensor = fc.record(
  {
    name: fc.oneof({ weight: 4, arbitrary: fc.constant('input') }, fc.string({ maxLength: 8 }), odd),
    shape: fc.oneof({ weight: 4, arbitrary: shape }, odd),
    datatype: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...V2_DATATYPES) },
      fc.constantFrom('fp32', 'INT128', 'FLOAT'),
      odd,
    ),
    data: fc.oneof({ weight: 3, arbitrary: flat }, nested, odd),
    parameters: odd,
  },
  { requiredKeys: [] },
);
const FEATURES: Record<string, number> = { iris: 4, 'iris-logistic': 4, linear: 1, diabetes: 10 };
/** Requests that are right in shape and type, with odd values inside: they reach the model. */
const wellFormedInfer = fc
  .tuple(fc.constantFrom(...MODELS), fc.integer({ min: 1, max: 5 }), fc.boolean())
  .chain(([m, rows, nestedData]) =>
    fc
      .array(fc.oneof({ weight: 20, arbitrary: number }, fc.constantFrom(1e308, -1e308, 3.4e38, 1e-45, -0)), {
        minLength: rows * (FEATURES[m] as number),
        maxLength: rows * (FEATURES[m] as number),
      })
      .map((values) => ({
        model: m,
        body: {
          inputs: [
            {
              name: 'input',
              shape: [rows, FEATURES[m]],
              datatype: 'FP32',
              data: nestedData
                ? Array.from({ length: rows }, (_, r) =>
                    values.slice(r * (FEATURES[m] as number), (r + 1) * (FEATURES[m] as number)),
                  )
                : values,
            },
          ],
        },
      })),
  );
const inferBody = fc.record(
  {
    id: odd,
    inputs: fc.oneof({ weight: 5, arbitrary: fc.array(tensor, { maxLength: 3 }) }, odd),
    outputs: fc.oneof(
      fc.array(fc.record({ name: fc.oneof(fc.constantFrom('label', 'probabilities', 'prediction'), odd) }), {
        maxLength: 3,
      }),
      odd,
    ),
    parameters: odd,
  },
  { requiredKeys: [] },
);
const instance = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.oneof({ weight: 5, arbitrary: number }, odd), { maxLength: 12 }) },
  fc.dictionary(
    fc.constantFrom(
      'sepal_length',
      'sepal_width',
      'petal_length',
      'petal_width',
      'x',
      'age',
      '__proto__',
      'constructor',
    ),
    fc.oneof(number, odd),
  ),
  odd,
);
const predictBody = fc.record(
  { instances: fc.oneof({ weight: 5, arbitrary: fc.array(instance, { maxLength: 6 }) }, odd), extra: odd },
  { requiredKeys: [] },
);
const message = fc.record(
  {
    role: fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('user', 'system', 'assistant') },
      fc.constantFrom('tool', 'function', 'root', ''),
      odd,
    ),
    content: fc.oneof(
      { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
      fc.constant(''),
      fc.array(
        fc.record({ type: fc.constantFrom('text', 'image_url'), text: fc.string({ maxLength: 10 }) }),
        { maxLength: 2 },
      ),
      odd,
    ),
    name: odd,
  },
  { requiredKeys: [] },
);
/** Generation lengths are kept small when valid: the property is about answers, not about waiting for tokens. */
const maxTokens = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -5, max: 6 }) },
  fc.constantFrom(0, 1e12, 2 ** 53, 1.5, '8', null, true),
);
const chatBody = fc.record(
  {
    model: fc.oneof(
      { weight: 3, arbitrary: fc.constant('demo-lm') },
      fc.constantFrom(...MODELS, 'gpt-4', ''),
      odd,
    ),
    messages: fc.oneof({ weight: 5, arbitrary: fc.array(message, { maxLength: 4 }) }, odd),
    max_tokens: maxTokens,
    stream: fc.oneof(fc.boolean(), odd),
    temperature: fc.oneof(fc.double({ min: -1, max: 3, noNaN: true }), odd),
    top_p: fc.oneof(fc.double({ min: -1, max: 2, noNaN: true }), odd),
    stop: fc.oneof(fc.string({ maxLength: 4 }), fc.array(fc.string({ maxLength: 3 }), { maxLength: 6 }), odd),
    n: fc.oneof(fc.integer({ min: -1, max: 3 }), odd),
    seed: fc.oneof(fc.integer(), odd),
  },
  { requiredKeys: ['max_tokens'] },
);
const completionBody = fc.record(
  {
    model: fc.oneof({ weight: 3, arbitrary: fc.constant('demo-lm') }, odd),
    prompt: fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
      odd,
    ),
    max_tokens: maxTokens,
    stream: fc.oneof(fc.boolean(), odd),
  },
  { requiredKeys: ['max_tokens'] },
);

/** A JSON body as sent: intact mostly, else truncated, with non-JSON numbers, binary, or empty. */
function encoded(value: fc.Arbitrary<unknown>): fc.Arbitrary<string | Buffer> {
  return fc.tuple(value, fc.integer({ min: 0, max: 19 }), fc.nat()).map(([v, roll, cut]) => {
    const text = JSON.stringify(v) ?? 'null';
    if (roll === 0) return text.slice(0, cut % Math.max(1, text.length));
    if (roll === 1) return text.replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/, 'NaN');
    if (roll === 2) return text.replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/, 'Infinity');
    if (roll === 3) return Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x80, 0x22]);
    if (roll === 4) return '';
    if (roll === 5) return `${'['.repeat(3000)}${']'.repeat(3000)}`;
    return text;
  });
}
const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  fc.constantFrom(
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/json; charset=latin1',
    'application/octet-stream',
  ),
);
/** Now and then the key twice (API Gateway then sees one value; the emulator refuses the pair with 403). */
const duplicatedKey = fc.integer({ min: 0, max: 19 }).map((n) => n === 0);

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
