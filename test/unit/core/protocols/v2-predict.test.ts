/**
 * The V2 infer and simple predict protocols on hand-built manifests: requests parsed into runtime tensors, a 400
 * saying what was expected for each kind of bad request, and the answers each route gives.
 */
import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../../../functions/core/errors.ts';
import { parsePredictRequest, predictResponse } from '../../../../functions/core/protocols/predict.ts';
import { inferResponse, modelMetadata, parseInferRequest } from '../../../../functions/core/protocols/v2.ts';
import type { Manifest } from '../../../../functions/core/registry/manifest.ts';
import { irisManifest } from '../../../fixtures/manifests.ts';

const iris = irisManifest({ features: ['sl', 'sw', 'pl', 'pw'] });
const twoInputs: Manifest = {
  ...iris,
  name: 'pair',
  inputs: [
    { name: 'ids', datatype: 'INT64', shape: [-1] },
    { name: 'mask', datatype: 'BOOL', shape: [-1] },
  ],
};

const tensor = (over: Record<string, unknown> = {}) => ({
  name: 'input',
  shape: [2, 4],
  datatype: 'FP32',
  data: [
    [1, 2, 3, 4],
    [5, 6, 7, 8],
  ],
  ...over,
});

function badInfer(body: unknown, manifest: Manifest = iris, max = 1000): string {
  try {
    parseInferRequest(body, manifest, max);
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    return (error as Error).message;
  }
  throw new Error('expected a BadRequestError');
}

describe('parseInferRequest', () => {
  it('accepts nested or flat row-major data and keeps id and output selection', () => {
    const nested = parseInferRequest(
      { id: 'r1', inputs: [tensor()], outputs: [{ name: 'label' }] },
      iris,
      1000,
    );
    const flat = parseInferRequest({ inputs: [tensor({ data: [1, 2, 3, 4, 5, 6, 7, 8] })] }, iris, 1000);
    expect(nested.id).toBe('r1');
    expect(nested.outputs).toEqual(['label']);
    expect(nested.inputs[0]?.data).toEqual(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(flat.inputs[0]?.data).toEqual(nested.inputs[0]?.data);
    expect(flat.outputs).toBeUndefined();
  });

  it('types INT64 and BOOL inputs for the runtime', () => {
    const request = parseInferRequest(
      {
        inputs: [
          { name: 'ids', shape: [2], datatype: 'INT64', data: [7, 8] },
          { name: 'mask', shape: [2], datatype: 'BOOL', data: [true, false] },
        ],
      },
      twoInputs,
      1000,
    );
    expect(request.inputs[0]?.data).toEqual(BigInt64Array.from([7n, 8n]));
    expect(request.inputs[1]?.data).toEqual(Uint8Array.from([1, 0]));
  });

  it.each([
    ['a body that is not an object', [1, 2], /request body must be a JSON object with an "inputs" array/],
    ['no inputs', {}, /"inputs" must be a non-empty array .* expects input \(FP32 \[-1,4\]\)/],
    ['empty inputs', { inputs: [] }, /"inputs" must be a non-empty array/],
    ['an input that is not an object', { inputs: [3] }, /inputs\[0\] must be an object/],
    ['an input without a name', { inputs: [tensor({ name: 1 })] }, /inputs\[0\].name must be a string/],
    [
      'an unknown input',
      { inputs: [tensor({ name: 'x' })] },
      /unknown input 'x'; model 'iris' expects input \(FP32 \[-1,4\]\)/,
    ],
    ['a duplicated input', { inputs: [tensor(), tensor()] }, /input 'input' is given twice/],
    [
      'a shape that is not integers',
      { inputs: [tensor({ shape: [2, 'four'] })] },
      /"shape" must be an array of non-negative integers, like \[1,4\]/,
    ],
    [
      'a negative dimension',
      { inputs: [tensor({ shape: [-1, 4] })] },
      /"shape" must be an array of non-negative integers/,
    ],
    [
      'a wrong rank',
      { inputs: [tensor({ shape: [8] })] },
      /has shape \[8\] but model 'iris' expects \[-1,4\]/,
    ],
    [
      'a wrong feature count',
      { inputs: [tensor({ shape: [2, 3] })] },
      /has shape \[2,3\] but model 'iris' expects \[-1,4\]/,
    ],
    [
      'an unknown datatype',
      { inputs: [tensor({ datatype: 'FLOAT' })] },
      /datatype "FLOAT" is not a V2 datatype; expected FP32/,
    ],
    [
      'a missing datatype',
      { inputs: [tensor({ datatype: undefined })] },
      /datatype is missing; expected FP32/,
    ],
    [
      'the wrong datatype',
      { inputs: [tensor({ datatype: 'FP64' })] },
      /has datatype FP64 but model 'iris' expects FP32/,
    ],
    ['data that is not an array', { inputs: [tensor({ data: 'abc' })] }, /"data" must be an array/],
    [
      'too few elements',
      { inputs: [tensor({ data: [1, 2, 3] })] },
      /has 3 data elements but shape \[2,4\] needs 8/,
    ],
    [
      'too many elements for the shape',
      { inputs: [tensor({ data: [1, 2, 3, 4, 5, 6, 7, 8, 9] })] },
      /more than the 8 elements expected/,
    ],
    [
      'a string element',
      { inputs: [tensor({ data: [1, 2, 3, 4, 5, 6, 7, 'x'] })] },
      /input 'input' element 7 is "x"; FP32 expects a number/,
    ],
    ['a bad id', { id: 5, inputs: [tensor()] }, /"id" must be a string/],
    ['bad parameters', { parameters: [], inputs: [tensor()] }, /"parameters" must be a JSON object/],
    [
      'outputs that are not an array',
      { inputs: [tensor()], outputs: 'label' },
      /"outputs" must be an array of \{"name"\}/,
    ],
    [
      'an unknown output',
      { inputs: [tensor()], outputs: [{ name: 'y' }] },
      /unknown output 'y'; model 'iris' has outputs label, probabilities/,
    ],
  ])('refuses %s with a message saying what was expected', (_, body, message) => {
    expect(badInfer(body)).toMatch(message);
  });

  it('refuses more elements than the per-request limit before reading the data', () => {
    expect(badInfer({ inputs: [tensor({ shape: [500, 4], data: [] })] })).toMatch(
      /has 2000 elements \(shape \[500,4\]\); the limit is 1000 elements per request/,
    );
  });

  it('names a missing input', () => {
    expect(
      badInfer({ inputs: [{ name: 'ids', shape: [1], datatype: 'INT64', data: [1] }] }, twoInputs),
    ).toMatch(/missing input 'mask'; model 'pair' expects ids \(INT64 \[-1\]\), mask \(BOOL \[-1\]\)/);
  });

  it('refuses data nested absurdly deep instead of overflowing the stack', () => {
    let deep: unknown = [1];
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(badInfer({ inputs: [tensor({ shape: [1, 4], data: deep })] })).toMatch(
      /nested deeper than 32 levels/,
    );
  });
});

describe('V2 responses', () => {
  it('echoes id and names the model version', () => {
    const outputs = [{ name: 'label', datatype: 'INT64' as const, shape: [1], data: [0] }];
    expect(inferResponse(iris, { id: 'x', inputs: [] }, outputs)).toEqual({
      model_name: 'iris',
      model_version: '2',
      id: 'x',
      outputs,
    });
    expect(modelMetadata(iris, ['1', '2'])).toEqual({
      name: 'iris',
      versions: ['1', '2'],
      platform: 'onnxruntime_onnx',
      inputs: iris.inputs,
      outputs: iris.outputs,
    });
  });
});

describe('predict', () => {
  it('accepts arrays and objects keyed by feature name', () => {
    const input = parsePredictRequest(
      { instances: [[1, 2, 3, 4], { sl: 5, sw: 6, pl: 7, pw: 8 }] },
      iris,
      1000,
    );
    expect(input).toMatchObject({ name: 'input', datatype: 'FP32', shape: [2, 4] });
    expect(input.data).toEqual(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]));
  });

  it('accepts bare numbers for a one-feature model', () => {
    const linear = {
      ...iris,
      inputs: [{ name: 'input', datatype: 'FP32' as const, shape: [-1, 1] }],
      features: ['x'],
    };
    expect(parsePredictRequest({ instances: [1, [2]] }, linear, 10).data).toEqual(Float32Array.from([1, 2]));
  });

  it.each([
    [
      'no instances',
      { rows: [] },
      /request body must be a JSON object \{"instances": \[\[...\], ...\]\}: model 'iris' expects each instance to be an array of 4 FP32 values \(sl, sw, pl, pw\)/,
    ],
    ['empty instances', { instances: [] }, /"instances" is empty/],
    [
      'a short instance',
      { instances: [[1, 2, 3]] },
      /instance 0 has 3 values; model 'iris' expects each instance to be an array of 4/,
    ],
    [
      'a long instance',
      {
        instances: [
          [1, 2, 3, 4],
          [1, 2, 3, 4, 5],
        ],
      },
      /instance 1 has more than the 5 elements expected|instance 1 has 5 values/,
    ],
    [
      'a string value',
      { instances: [[1, 2, 'x', 4]] },
      /instance 0 value 2 \(pl\) is "x"; FP32 expects a number/,
    ],
    [
      'an unknown feature',
      { instances: [{ sl: 1, sw: 2, pl: 3, pw: 4, zz: 5 }] },
      /instance 0 has unknown feature 'zz'; expected sl, sw, pl, pw/,
    ],
    ['a missing feature', { instances: [{ sl: 1, sw: 2, pl: 3 }] }, /instance 0 is missing feature 'pw'/],
    ['a scalar for a four-feature model', { instances: [3] }, /instance 0 is 3; model 'iris' expects/],
  ])('refuses %s with a message saying what was expected', (_, body, message) => {
    expect(() => parsePredictRequest(body, iris, 1000)).toThrow(message);
  });

  it('refuses more instances than the element limit', () => {
    expect(() => parsePredictRequest({ instances: Array(300).fill([1, 2, 3, 4]) }, iris, 1000)).toThrow(
      /300 instances of 4 values are 1200 elements; the limit is 1000 per request/,
    );
  });

  it('sends multi-input models to the V2 route', () => {
    expect(() => parsePredictRequest({ instances: [[1]] }, twoInputs, 10)).toThrow(
      /the predict route needs one input of shape \[-1, features\] or \[-1, fixed dims...\] \(the first dimension is the batch\), or a scalar input \[\]: use POST \/v2\/models\/pair\/infer/,
    );
  });

  it('maps class ids to labels and probability rows to {label: p}', () => {
    const response = predictResponse(iris, [
      { name: 'label', datatype: 'INT64', shape: [2], data: [2, 0] },
      { name: 'probabilities', datatype: 'FP32', shape: [2, 3], data: [0, 0.25, 0.75, 1, 0, 0] },
    ]);
    expect(response).toEqual({
      predictions: ['virginica', 'setosa'],
      probabilities: [
        { setosa: 0, versicolor: 0.25, virginica: 0.75 },
        { setosa: 1, versicolor: 0, virginica: 0 },
      ],
      model_name: 'iris',
      model_version: '2',
    });
  });

  it('gives one scalar per row for a single-output regressor', () => {
    const regressor = {
      ...iris,
      labels: undefined,
      outputs: [{ name: 'prediction', datatype: 'FP32' as const, shape: [-1, 1] }],
    };
    expect(
      predictResponse(regressor, [{ name: 'prediction', datatype: 'FP32', shape: [2, 1], data: [1.5, 2.5] }])
        .predictions,
    ).toEqual([1.5, 2.5]);
  });
});
