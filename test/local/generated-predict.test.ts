/**
 * The predict route over the local topology for the generated graphs beyond [-1, F]: a scalar input, a scalar
 * per row, an empty dimension, NCHW and NHWC images; misfits answered 400 naming the shape expected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishModel } from '../../cli/registry/publish.ts';
import { type GeneratedCase, generatedCases, generatedGraph, type Tensor } from '../fixtures/generated.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

const cases = generatedCases;
const byName = (name: string) => cases.find((c) => c.name === name) as GeneratedCase;

/** Row-major data as nested arrays of `shape`. */
function nest(data: readonly unknown[], shape: readonly number[]): unknown {
  if (shape.length === 0) return data[0];
  const [size = 0, ...inner] = shape;
  const step = inner.reduce((a, b) => a * b, 1);
  return Array.from({ length: size }, (_, i) => nest(data.slice(i * step, (i + 1) * step), inner));
}

/** A V2 tensor as predict instances: one per row of the batch dimension, or the one value of a scalar. */
function instancesOf(t: Tensor): unknown[] {
  return t.shape.length === 0 ? [t.data[0]] : (nest(t.data, t.shape) as unknown[]);
}

let api: TestTopology;
beforeAll(async () => {
  api = await startTestTopology({ seed: false });
  for (const name of ['scalar', 'empty-dim', 'strings-lower', 'conv-nchw', 'conv-nhwc', 'dynamic-axes']) {
    await publishModel(api.s3, api.bucket, { name, bytes: generatedGraph(name) });
  }
});
afterAll(() => api.close());

const predict = (name: string, instances: unknown) =>
  api.call(`/v1/models/${name}/predict`, { body: { instances } });

describe('predict answers as numpy does', () => {
  it('a scalar input [] takes one bare value and answers one prediction', async () => {
    const { status, json } = await predict('scalar', [3.5]);
    expect(status, JSON.stringify(json)).toBe(200);
    expect(json).toEqual({ predictions: [7], model_name: 'scalar', model_version: '1' });
  });

  it('an input with an empty dimension [-1, 0] takes an empty array per instance', async () => {
    const { status, json } = await predict('empty-dim', [[], []]);
    expect(status, JSON.stringify(json)).toBe(200);
    expect(json.predictions).toEqual([[], []]);
  });

  it('an input [-1] takes one value per instance (BYTES here)', async () => {
    const { status, json } = await predict('strings-lower', ['Hello', 'WORLD']);
    expect(status, JSON.stringify(json)).toBe(200);
    expect(json.predictions).toEqual(['hello', 'world']);
  });

  it.each(['conv-nchw', 'conv-nhwc'])(
    '%s takes nested images and answers nested per-row outputs',
    async (name) => {
      const { inputs, outputs } = byName(name);
      const [input, output] = [inputs[0] as Tensor, outputs[0] as Tensor];
      const { status, json } = await predict(name, instancesOf(input));
      expect(status, JSON.stringify(json)).toBe(200);
      const got = (json.predictions as unknown[]).flat(3) as number[];
      expect(json.predictions).toHaveLength(output.shape[0] as number);
      expect(JSON.stringify(json.predictions)).toBe(JSON.stringify(instancesOf({ ...output, data: got })));
      output.data.forEach((v, i) => {
        expect(Math.abs((got[i] as number) - (v as number))).toBeLessThan(
          1e-5 * Math.abs(v as number) + 1e-6,
        );
      });
    },
  );
});

describe('predict refuses a misfit with a 400 naming the shape expected', () => {
  it.each([
    [
      'scalar',
      [1, 2],
      /2 instances sent; model 'scalar' takes one FP32 value, its input 'x' being a scalar \(shape \[\], no batch dimension\)/,
    ],
    ['scalar', [[3.5]], /instance 0 is an array of 1; model 'scalar' takes one FP32 value/],
    [
      'empty-dim',
      [[0.5]],
      /instance 0 is shape \[1\]; model 'empty-dim' expects each instance to be a nested array of shape \[0\] of FP32 values \(0 in all, an empty dimension in input shape \[-1,0\]\)/,
    ],
    [
      'strings-lower',
      [['Hello']],
      /instance 0 is an array of 1; model 'strings-lower' expects each instance to be one BYTES value \(input shape \[-1\]: a scalar per instance\)/,
    ],
    [
      'conv-nhwc',
      [[[1, 2, 3, 4]]],
      /instance 0 is shape \[1,4\]; model 'conv-nhwc' expects each instance to be a nested array of shape \[4,4,1\] of FP32 values \(16 in all\)/,
    ],
    [
      'dynamic-axes',
      [[1, 2]],
      /model 'dynamic-axes' takes x \(FP32 \[-1,-1\]\); the predict route needs one input of shape \[-1, features\] or \[-1, fixed dims...\].*use POST \/v2\/models\/dynamic-axes\/infer/,
    ],
  ])('%s with instances %j', async (name, instances, message) => {
    const { status, json } = await predict(name, instances);
    expect(status).toBe(400);
    expect(json.error).toMatch(message);
  });
});
