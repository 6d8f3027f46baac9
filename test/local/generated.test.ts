/**
 * A broad generated set of graphs (models/generated*.py): written with onnx.helper at opsets 7-26 and exported by
 * torch.onnx.export; each publishes and answers V2 infer as numpy or PyTorch computed; unloadable graphs are
 * refused with onnxruntime's reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishModel } from '../../cli/registry/publish.ts';
import { generatedCases, generatedGraph, type Tensor } from '../fixtures/generated.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

const cases = generatedCases;
const bytes = generatedGraph;

let api: TestTopology;
beforeAll(async () => {
  api = await startTestTopology({ seed: false });
});
afterAll(() => api.close());

describe.each(cases)(
  'generated graph $name (opset $opset)',
  ({ name, inputs, outputs, source, tolerance }) => {
    it(`publishes with its inputs and outputs read from the graph and answers V2 infer as ${source ?? 'numpy'} does`, async () => {
      const manifest = await publishModel(api.s3, api.bucket, { name, bytes: bytes(name) });
      expect(manifest.inputs.map((i) => [i.name, i.datatype, i.shape.length])).toEqual(
        inputs.map((i) => [i.name, i.datatype, i.shape.length]),
      );
      const { status, json } = await api.call(`/v2/models/${name}/infer`, { body: { inputs } });
      expect(status, JSON.stringify(json)).toBe(200);
      expect(json.outputs.map((o: Tensor) => o.name).sort()).toEqual(outputs.map((o) => o.name).sort());
      for (const want of outputs) {
        const got = json.outputs.find((o: Tensor) => o.name === want.name) as Tensor;
        expect(got).toMatchObject({ datatype: want.datatype, shape: want.shape });
        expect(got.data).toHaveLength(want.data.length);
        want.data.forEach((v, i) => {
          if (typeof v === 'number' && want.datatype.startsWith('FP')) {
            const relative = want.datatype === 'FP16' ? 1e-3 : (tolerance ?? 1e-5);
            expect(Math.abs((got.data[i] as number) - v)).toBeLessThanOrEqual(
              relative * Math.max(1, Math.abs(v)),
            );
          } else expect(got.data[i]).toEqual(v);
        });
      }
    });
  },
);

describe('a graph onnxruntime cannot load', () => {
  it.each([
    ['unloadable', /not a loadable ONNX model: .*NoSuchOperator/],
    [
      'opset99',
      /not a loadable ONNX model: .*Opset 99 .*Current official support for domain ai\.onnx is till opset 26/,
    ],
  ])("%s is refused at publish with onnxruntime's reason", async (name, reason) => {
    await expect(publishModel(api.s3, api.bucket, { name, bytes: bytes(name) })).rejects.toThrow(reason);
  });
});

describe('the generated set', () => {
  it('holds a graph at every opset from 7 to 26 and graphs exported by PyTorch', () => {
    const opsets = new Set(cases.map((c) => c.opset));
    const missing = Array.from({ length: 26 - 7 + 1 }, (_, i) => 7 + i).filter((opset) => !opsets.has(opset));
    expect(missing, 'opsets without a graph').toEqual([]);
    expect(Math.min(...opsets)).toBe(7);
    expect(Math.max(...opsets)).toBe(26);
    expect(cases.filter((c) => c.source?.startsWith('torch')).length).toBeGreaterThanOrEqual(4);
  });
});
