/**
 * Secrets kept out of logs on the local topology: a run of successes, client errors and faults, logged at debug
 * level with the access log, never shows the API key.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';
import { captureOutput } from '../fixtures/output.ts';

const KEY = 'secret-key-7f3a9c1e5b2d8046';
let output: string[] = [];
let api: TestTopology;

beforeAll(async () => {
  // Everything a function can log, logged.
  output = captureOutput('DEBUG');
  api = await startTestTopology({ apiKey: KEY, accessLog: (line) => output.push(line) });
});
afterAll(async () => {
  await api.close();
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('secrets never reach the logs', () => {
  it('logs every request of a run (successes, client errors, faults) without the API key', async () => {
    const asBearer = { authorization: `Bearer ${KEY}` };
    const calls = [
      api.call('/v1/models/iris/predict', { body: { instances: [[5.1, 3.5, 1.4, 0.2]] } }),
      api.call('/v1/models/iris/predict', {
        body: { instances: [[5.1, 3.5, 1.4, 0.2]] },
        key: null,
        headers: asBearer,
      }),
      api.call('/v2/models/iris/infer', {
        body: { inputs: [{ name: 'input', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] },
      }),
      api.call('/v2/models/nope/ready'),
      api.call('/v1/models/iris/predict', {
        body: '{"instances": [[1, 2',
        headers: { 'content-type': 'application/json' },
      }),
      api.call('/v1/batches', { body: { model: 'iris', input: 'none.jsonl' } }),
      api.call('/v1/models/iris/predict', { body: { instances: [[1, 2, 3, 4]] }, key: `${KEY}x` }),
    ];
    const statuses = (await Promise.all(calls)).map((r) => r.status);
    expect(statuses).toEqual([200, 200, 400, 404, 400, 404, 403]);
    const logged = output.join('\n');
    // The run did log: access lines and the handler's debug lines.
    expect(logged).toMatch(/"POST \/v1\/models\/iris\/predict HTTP\/1\.1" 200/);
    expect(logged).toContain('request served');
    expect(logged).not.toContain(KEY);
    expect(logged).not.toContain(KEY.slice(0, 12));
  });
});
