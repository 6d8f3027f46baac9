/**
 * Mutated request bodies (seeded) and odd model names and versions sent to the local topology's API: every answer
 * is a 200 or a 4xx, never a 5xx, never a stack trace, file path or other internals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

let api: TestTopology;
beforeAll(async () => {
  api = await startTestTopology();
});
afterAll(() => api.close());

/** Deterministic PRNG (mulberry32), so a failure replays exactly. */
function prng(seed: number) {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  return { next, pick };
}

const ODD_VALUES: unknown[] = [
  null,
  true,
  -1,
  0,
  1e308,
  -0.5,
  '',
  'FP32',
  'x'.repeat(5000),
  [],
  [[]],
  [null],
  {},
  { name: 'input' },
  [1, 'a', null],
  Number.MAX_SAFE_INTEGER,
];

/** A random mutation of a valid request: a key dropped, retyped, or moved somewhere odd. */
function mutate(value: unknown, r: ReturnType<typeof prng>, depth = 0): unknown {
  if (depth > 4 || r.next() < 0.15) return r.pick(ODD_VALUES);
  if (Array.isArray(value)) {
    if (value.length === 0 || r.next() < 0.2) return [...value, r.pick(ODD_VALUES)];
    const copy = [...value];
    const i = Math.floor(r.next() * copy.length);
    copy[i] = mutate(copy[i], r, depth + 1);
    return copy;
  }
  if (value && typeof value === 'object') {
    const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(copy);
    const key = r.pick(keys);
    const roll = r.next();
    if (roll < 0.25) delete copy[key];
    else if (roll < 0.35) copy[`extra${depth}`] = r.pick(ODD_VALUES);
    else copy[key] = mutate(copy[key], r, depth + 1);
    return copy;
  }
  return r.pick(ODD_VALUES);
}

function rawBody(r: ReturnType<typeof prng>, valid: unknown): string | Buffer {
  const text = JSON.stringify(valid);
  const roll = r.next();
  if (roll < 0.2) return text.slice(0, Math.floor(r.next() * text.length));
  if (roll < 0.3) return Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x80, 0x22]);
  if (roll < 0.35) return '';
  if (roll < 0.4) return `${'['.repeat(5000)}${']'.repeat(5000)}`;
  return JSON.stringify(mutate(valid, r));
}

const VALID: Array<{ path: string; body: unknown }> = [
  {
    path: '/v2/models/iris/infer',
    body: {
      id: 'a',
      inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }],
      outputs: [{ name: 'label' }],
    },
  },
  {
    path: '/v2/models/linear/versions/1/infer',
    body: { inputs: [{ name: 'input', shape: [2, 1], datatype: 'FP32', data: [[1], [2]] }] },
  },
  { path: '/v1/models/diabetes/predict', body: { instances: [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]] } },
  {
    path: '/v1/models/iris-logistic/predict',
    body: { instances: [{ sepal_length: 1, sepal_width: 2, petal_length: 3, petal_width: 4 }] },
  },
];

const ODD_PATHS = [
  '/v2/models/..%2F..%2Fetc/infer',
  '/v2/models/%00/infer',
  '/v2/models/%E2%80%AE/ready',
  '/v2/models/iris/versions/-1',
  '/v2/models/iris/versions/1e3/infer',
  '/v2/models/iris/versions/99999999999999999999',
  `/v2/models/${'a'.repeat(300)}`,
  '/v2/models/IRIS',
  '/v1/models/%ZZ/predict',
  '/v2/models/iris/versions/01/ready',
];

/** What no answer may contain: stack frames, file paths, internals. */
const LEAKS = /(\bat \S+ \(|node_modules|\/work\/|\.ts:\d+|ECONNREFUSED|Error:)/;

async function send(path: string, body: string | Buffer | undefined, method = 'POST') {
  const response = await fetch(`${api.apiUrl}${path}`, {
    method,
    headers: { 'x-api-key': api.apiKey, 'content-type': 'application/json' },
    ...(body !== undefined && { body }),
  });
  return { status: response.status, text: await response.text() };
}

describe('fuzzed requests never get a 5xx or leak internals', () => {
  it.each(VALID.map((v, i) => [v.path, i] as const))('%s: 150 mutated bodies', async (path, i) => {
    const r = prng(1000 + i);
    const statuses = new Map<number, number>();
    for (let n = 0; n < 150; n++) {
      const body = rawBody(r, VALID[i]?.body);
      const { status, text } = await send(path, body);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      const context = `${status} for ${String(body).slice(0, 200)} -> ${text}`;
      expect(status, context).toBeLessThan(500);
      expect(text, context).not.toMatch(LEAKS);
      if (status >= 400) expect(Object.keys(JSON.parse(text)), context).toEqual(['error']);
    }
    // Most mutations are caught; a few happen to stay valid.
    expect(
      [...statuses.keys()].every((s) => s === 200 || s === 400),
      JSON.stringify([...statuses]),
    ).toBe(true);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
  });

  it('odd model names and versions answer 4xx', async () => {
    for (const path of ODD_PATHS) {
      for (const method of ['GET', 'POST']) {
        const { status, text } = await send(
          path,
          method === 'POST' ? '{"instances": [[1]]}' : undefined,
          method,
        );
        expect(status, `${method} ${path} -> ${text}`).toBeGreaterThanOrEqual(400);
        expect(status, `${method} ${path} -> ${text}`).toBeLessThan(500);
        expect(text).not.toMatch(LEAKS);
      }
    }
  });
});
