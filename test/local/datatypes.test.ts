/**
 * Every V2 datatype, its edges included, through an echo ONNX graph on the local topology: metadata from the
 * graph, exact round trips through onnxruntime, and a 400 for an element out of its datatype's range.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishModel } from '../../cli/registry/publish.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

let api: TestTopology;
beforeAll(async () => {
  api = await startTestTopology({ seed: false });
  const bytes = readFileSync(new URL('../fixtures/models/echo.onnx', import.meta.url));
  await publishModel(api.s3, api.bucket, { name: 'echo', bytes });
});
afterAll(() => api.close());

/** One value set per V2 datatype, including each type's edges. */
const VALUES: Record<string, unknown[]> = {
  BOOL: [true, false, true],
  UINT8: [0, 7, 255],
  UINT16: [0, 1000, 65535],
  UINT32: [0, 123456, 4294967295],
  UINT64: [0, 2 ** 40, Number.MAX_SAFE_INTEGER],
  INT8: [-128, 0, 127],
  INT16: [-32768, 5, 32767],
  INT32: [-2147483648, 42, 2147483647],
  INT64: [Number.MIN_SAFE_INTEGER, -1, Number.MAX_SAFE_INTEGER],
  FP16: [0.5, -2, 65504],
  FP32: [1.5, -0.25, 3.4e38],
  FP64: [Math.PI, -1e-300, 1e300],
  BYTES: ['héllo', '', 'wörld'],
};

describe('every V2 datatype through onnxruntime and back', () => {
  it('is described by the metadata read from the graph', async () => {
    const { json } = await api.call('/v2/models/echo');
    expect(json.inputs).toHaveLength(13);
    for (const datatype of Object.keys(VALUES)) {
      expect(json.inputs).toContainEqual({ name: `x_${datatype.toLowerCase()}`, datatype, shape: [-1] });
      expect(json.outputs).toContainEqual({ name: `y_${datatype.toLowerCase()}`, datatype, shape: [-1] });
    }
  });

  it('round-trips INT64 (BigInt), BOOL, BYTES, FP16 and the rest', async () => {
    const inputs = Object.entries(VALUES).map(([datatype, data]) => ({
      name: `x_${datatype.toLowerCase()}`,
      shape: [3],
      datatype,
      data,
    }));
    const { status, json } = await api.call('/v2/models/echo/infer', { body: { inputs } });
    expect(status).toBe(200);
    for (const [datatype, data] of Object.entries(VALUES)) {
      const output = json.outputs.find((o: { name: string }) => o.name === `y_${datatype.toLowerCase()}`);
      expect(output, datatype).toMatchObject({ datatype, shape: [3] });
      // FP32 comes back as the nearest float32; the FP16 values chosen are exact in binary16.
      const expected = datatype === 'FP32' ? data.map((v) => Math.fround(v as number)) : data;
      expect(output.data, datatype).toEqual(expected);
    }
  });

  it('refuses an element out of its datatype range with a 400', async () => {
    const inputs = Object.entries(VALUES).map(([datatype, data]) => ({
      name: `x_${datatype.toLowerCase()}`,
      shape: [3],
      datatype,
      data: datatype === 'UINT8' ? [1, 2, 256] : data,
    }));
    const { status, json } = await api.call('/v2/models/echo/infer', { body: { inputs } });
    expect(status).toBe(400);
    expect(json.error).toBe("input 'x_uint8' element 2 is 256; UINT8 expects an integer from 0 to 255");
  });
});
