/**
 * The inference API over HTTP on the local topology: health and metadata, each sample model's predict and V2
 * infer answers against its framework's own predictions, and the 4xx message each kind of bad request gets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';
import {
  type NestedRow,
  parityFixture,
  rowShape,
  SAMPLE_MODELS,
  SAMPLE_NAMES,
  sampleManifest,
} from '../fixtures/models.ts';

let api: TestTopology;
beforeAll(async () => {
  api = await startTestTopology();
});
afterAll(() => api.close());

const v2Input = (rows: NestedRow[]) => ({
  inputs: [{ name: 'input', shape: [rows.length, ...rowShape(rows[0])], datatype: 'FP32', data: rows }],
});

describe('server routes', () => {
  it('answers health and server metadata without a key', async () => {
    expect(await api.call('/v2/health/live', { key: null })).toMatchObject({
      status: 200,
      json: { live: true },
    });
    expect(await api.call('/v2/health/ready', { key: null })).toMatchObject({
      status: 200,
      json: { ready: true },
    });
    expect(await api.call('/v2', { key: null })).toMatchObject({
      status: 200,
      json: { name: 'modelgate', version: expect.any(String), extensions: [] },
    });
  });

  it('lists the seeded sample models', async () => {
    const { status, json } = await api.call('/v2/models');
    expect(status).toBe(200);
    expect(json.models.map((m: { name: string }) => m.name)).toEqual(SAMPLE_NAMES);
    expect(json.models[0]).toEqual({ name: 'diabetes', versions: ['1'], platform: 'onnxruntime_onnx' });
  });
});

describe.each(SAMPLE_MODELS)('sample model %s', (name) => {
  const fixture = parityFixture(name);
  const shape = rowShape(fixture.instances[0]);

  it('has metadata read from its graph, at /v2/models/{m} and /versions/{v}', async () => {
    const latest = await api.call(`/v2/models/${name}`);
    expect(latest.status).toBe(200);
    expect(latest.json).toMatchObject({
      name,
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, ...shape] }],
    });
    expect((await api.call(`/v2/models/${name}/versions/1`)).json).toEqual(latest.json);
  });

  it('is ready at both readiness routes', async () => {
    expect(await api.call(`/v2/models/${name}/ready`)).toMatchObject({
      status: 200,
      json: { name, ready: true },
    });
    expect((await api.call(`/v2/models/${name}/versions/1/ready`)).status).toBe(200);
  });

  it('predicts what its framework predicts, through the predict route', async () => {
    const { status, json, headers } = await api.call(`/v1/models/${name}/predict`, {
      body: { instances: fixture.instances },
    });
    expect(status).toBe(200);
    expect(headers.get('x-modelgate-model-version')).toBe('1');
    expect(json.model_version).toBe('1');
    expect(json.predictions).toHaveLength(fixture.instances.length);
    if (typeof fixture.predictions[0] === 'string') {
      expect(json.predictions).toEqual(fixture.predictions);
      const labels = sampleManifest(name).labels ?? [];
      json.probabilities.forEach((row: Record<string, number>, i: number) => {
        labels.forEach((label, c) => {
          expect(row[label]).toBeCloseTo(fixture.probabilities?.[i]?.[c] ?? Number.NaN, 5);
        });
      });
    } else {
      json.predictions.forEach((p: number, i: number) => {
        const expected = fixture.predictions[i] as number;
        expect(Math.abs(p - expected)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(expected)));
      });
    }
  });

  it('answers the same through V2 infer, latest and pinned version', async () => {
    const latest = await api.call(`/v2/models/${name}/infer`, {
      body: { id: 'parity', ...v2Input(fixture.instances) },
    });
    expect(latest.status).toBe(200);
    expect(latest.json).toMatchObject({ model_name: name, model_version: '1', id: 'parity' });
    const pinned = await api.call(`/v2/models/${name}/versions/1/infer`, {
      body: { id: 'parity', ...v2Input(fixture.instances) },
    });
    expect(pinned.json).toEqual(latest.json);
    const first = latest.json.outputs[0];
    expect(first.shape[0]).toBe(fixture.instances.length);
    if (first.name === 'label') {
      const labels = sampleManifest(name).labels ?? [];
      expect(first.data.map((id: number) => labels[id])).toEqual(fixture.predictions);
    } else {
      first.data.forEach((p: number, i: number) => {
        expect(p).toBeCloseTo(fixture.predictions[i] as number, 3);
      });
    }
  });
});

describe('V2 output selection', () => {
  it('returns only the outputs asked for', async () => {
    const { json } = await api.call('/v2/models/iris/infer', {
      body: { ...v2Input([[5.1, 3.5, 1.4, 0.2]]), outputs: [{ name: 'probabilities' }] },
    });
    expect(json.outputs.map((o: { name: string }) => o.name)).toEqual(['probabilities']);
    expect(json.outputs[0].shape).toEqual([1, 3]);
  });
});

describe('bad input gets a 4xx that says what was expected', () => {
  const infer = (body: unknown, headers: Record<string, string> = {}) =>
    api.call('/v2/models/iris/infer', { body, headers });
  const tensor = (over: Record<string, unknown>) => ({
    inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4], ...over }],
  });

  it.each([
    [
      'malformed JSON (handler)',
      '{"inputs": [',
      { 'content-type': 'text/plain' },
      /request body is not valid JSON/,
    ],
    [
      'malformed JSON (gateway validator)',
      '{"inputs": [',
      {},
      /invalid request body: body is not valid JSON/,
    ],
    ['no inputs (gateway validator)', { rows: [] }, {}, /missing required properties \(\["inputs"\]\)/],
    [
      'wrong shape',
      tensor({ shape: [1, 3], data: [1, 2, 3] }),
      {},
      /has shape \[1,3\] but model 'iris' expects \[-1,4\]/,
    ],
    [
      'element count not matching shape',
      tensor({ shape: [2, 4] }),
      {},
      /has 4 data elements but shape \[2,4\] needs 8/,
    ],
    ['wrong datatype', tensor({ datatype: 'INT32' }), {}, /has datatype INT32 but model 'iris' expects FP32/],
    [
      'a string element',
      tensor({ data: [1, 2, 'three', 4] }),
      {},
      /element 2 is "three"; FP32 expects a number/,
    ],
    [
      'unknown input',
      tensor({ name: 'features' }),
      {},
      /unknown input 'features'; model 'iris' expects input \(FP32 \[-1,4\]\)/,
    ],
    [
      'too many elements',
      tensor({ shape: [300_000, 4], data: [] }),
      {},
      /the limit is 1000000 elements per request/,
    ],
  ])('%s', async (_, body, headers, message) => {
    const { status, json } = await infer(body, headers);
    expect(status).toBe(400);
    expect(json.error).toMatch(message);
  });

  it('a missing input', async () => {
    const { status, json } = await api.call('/v2/models/iris/infer', {
      body: { inputs: [{ name: 'other', shape: [1], datatype: 'FP32', data: [1] }] },
    });
    expect(status).toBe(400);
    expect(json.error).toMatch(/unknown input 'other'/);
  });

  it('bad model names and versions are 400, unknown ones 404', async () => {
    expect(await api.call('/v2/models/Iris!/infer', { body: tensor({}) })).toMatchObject({
      status: 400,
      json: { error: expect.stringMatching(/model name "Iris!" is invalid/) },
    });
    expect((await api.call('/v2/models/iris/versions/0/infer', { body: tensor({}) })).status).toBe(400);
    expect(await api.call('/v2/models/ghost/infer', { body: tensor({}) })).toMatchObject({
      status: 404,
      json: { error: "model 'ghost' not found" },
    });
    expect(await api.call('/v2/models/iris/versions/7')).toMatchObject({
      status: 404,
      json: { error: "model 'iris' has no version 7" },
    });
    expect((await api.call('/v1/models/ghost/predict', { body: { instances: [[1]] } })).status).toBe(404);
  });

  it('predict: wrong width and wrong types', async () => {
    const short = await api.call('/v1/models/iris/predict', { body: { instances: [[1, 2, 3]] } });
    expect(short.status).toBe(400);
    expect(short.json.error).toMatch(
      /instance 0 has 3 values; model 'iris' expects each instance to be an array of 4 FP32 values \(sepal_length, sepal_width, petal_length, petal_width\)/,
    );
    const typed = await api.call('/v1/models/diabetes/predict', {
      body: { instances: [[1, 2, 3, 4, 5, 6, 7, 8, 9, true]] },
    });
    expect(typed.json.error).toMatch(/instance 0 value 9 \(s6\) is true; FP32 expects a number/);
    expect((await api.call('/v1/models/iris/predict', { body: { instances: [] } })).status).toBe(400);
  });

  it('accepts instances keyed by feature name', async () => {
    const { json } = await api.call('/v1/models/iris/predict', {
      body: { instances: [{ sepal_length: 6.7, sepal_width: 3.1, petal_length: 5.6, petal_width: 2.4 }] },
    });
    expect(json.predictions).toEqual(['virginica']);
  });
});
