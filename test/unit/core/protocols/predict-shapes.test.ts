/** The predict route's instances for inputs beyond [-1, F]: scalars per row or whole, empty dimensions, a fixed batch dimension, and the 400s naming the shape expected. */
import { describe, expect, it } from 'vitest';
import {
  parsePredictRequest,
  predictInput,
  predictResponse,
} from '../../../../functions/core/protocols/predict.ts';
import type { Manifest, TensorSpec } from '../../../../functions/core/registry/manifest.ts';
import { irisManifest } from '../../../fixtures/manifests.ts';

const model = (name: string, input: TensorSpec): Manifest => ({
  ...irisManifest(),
  name,
  labels: undefined,
  features: undefined,
  inputs: [input],
  outputs: [{ name: 'y', datatype: input.datatype, shape: input.shape }],
});
const wholeScalar = model('scalar', { name: 'x', datatype: 'FP32', shape: [] });
const rowScalar = model('words', { name: 'x', datatype: 'BYTES', shape: [-1] });
const emptyDim = model('empty', { name: 'x', datatype: 'FP32', shape: [-1, 0] });
const emptyInner = model('empty3', { name: 'x', datatype: 'INT32', shape: [-1, 2, 0] });
const fixedBatch = model('fixed', { name: 'x', datatype: 'FP32', shape: [2, 3] });
const variableRow = model('ragged', { name: 'x', datatype: 'FP32', shape: [-1, -1] });

describe('predict instances by input shape', () => {
  it('takes one bare value for a scalar input [] and builds a rank-0 tensor', () => {
    const input = parsePredictRequest({ instances: [3.5] }, wholeScalar, 10);
    expect(input).toMatchObject({ name: 'x', datatype: 'FP32', shape: [] });
    expect(input.data).toEqual(Float32Array.from([3.5]));
  });

  it('takes one bare value per instance for an input [-1]', () => {
    const input = parsePredictRequest({ instances: ['Hello', 'WORLD'] }, rowScalar, 10);
    expect(input).toMatchObject({ shape: [2], data: ['Hello', 'WORLD'] });
  });

  it('takes an empty array per instance for an empty dimension', () => {
    expect(parsePredictRequest({ instances: [[], []] }, emptyDim, 10)).toMatchObject({ shape: [2, 0] });
    expect(parsePredictRequest({ instances: [[[], []]] }, emptyInner, 10)).toMatchObject({
      shape: [1, 2, 0],
    });
  });

  it('takes exactly as many instances as a fixed first dimension', () => {
    const input = parsePredictRequest(
      {
        instances: [
          [1, 2, 3],
          [4, 5, 6],
        ],
      },
      fixedBatch,
      10,
    );
    expect(input.shape).toEqual([2, 3]);
  });

  it.each([
    [
      wholeScalar,
      [1, 2],
      /2 instances sent; model 'scalar' takes one FP32 value, its input 'x' being a scalar \(shape \[\], no batch dimension\): send \{"instances": \[value\]\}/,
    ],
    [wholeScalar, [[3.5]], /instance 0 is an array of 1; model 'scalar' takes one FP32 value/],
    [
      rowScalar,
      [['Hello']],
      /instance 0 is an array of 1; model 'words' expects each instance to be one BYTES value \(input shape \[-1\]: a scalar per instance\)/,
    ],
    [
      rowScalar,
      [{ w: 'x' }],
      /instance 0 is an object; model 'words' expects each instance to be one BYTES value/,
    ],
    [
      emptyDim,
      [[1]],
      /instance 0 is shape \[1\]; model 'empty' expects each instance to be a nested array of shape \[0\] of FP32 values \(0 in all, an empty dimension in input shape \[-1,0\]\)/,
    ],
    [
      emptyDim,
      [[[]]],
      /instance 0 is shape \[1,0\]; model 'empty' expects each instance to be a nested array of shape \[0\]/,
    ],
    [emptyDim, [5], /instance 0 is 5; model 'empty' expects/],
    [
      emptyInner,
      [[[]]],
      /instance 0 is shape \[1,0\]; model 'empty3' expects each instance to be a nested array of shape \[2,0\] of INT32 values/,
    ],
    [
      fixedBatch,
      [[1, 2, 3]],
      /1 instances sent; model 'fixed' takes exactly 2 \(its input shape \[2,3\] fixes the batch dimension\)/,
    ],
  ])('refuses a misfit for %#: the 400 names the shape expected', (manifest, instances, message) => {
    expect(() => parsePredictRequest({ instances }, manifest, 100)).toThrow(message);
  });

  it('sends an input with a variable dimension after the batch to V2', () => {
    expect(predictInput(variableRow)).toBeUndefined();
    expect(() => parsePredictRequest({ instances: [[1]] }, variableRow, 10)).toThrow(
      /model 'ragged' takes x \(FP32 \[-1,-1\]\); the predict route needs .* use POST \/v2\/models\/ragged\/infer/,
    );
  });
});

describe('predictions by output shape', () => {
  it('answers a scalar output as one prediction', () => {
    const outputs = [{ name: 'y', datatype: 'FP32' as const, shape: [], data: [7] }];
    expect(predictResponse(wholeScalar, outputs).predictions).toEqual([7]);
  });

  it('answers an empty row per instance for an output with an empty dimension', () => {
    const outputs = [{ name: 'y', datatype: 'FP32' as const, shape: [2, 0], data: [] }];
    expect(predictResponse(emptyDim, outputs).predictions).toEqual([[], []]);
  });
});

describe('predictions of a rank-3+ output', () => {
  it('nests each row in the per-row output shape', () => {
    const outputs = [
      { name: 'y', datatype: 'FP32' as const, shape: [2, 1, 2, 2], data: [1, 2, 3, 4, 5, 6, 7, 8] },
    ];
    expect(predictResponse(emptyDim, outputs).predictions).toEqual([
      [
        [
          [1, 2],
          [3, 4],
        ],
      ],
      [
        [
          [5, 6],
          [7, 8],
        ],
      ],
    ]);
  });

  it('nests an empty inner dimension as empty arrays', () => {
    const outputs = [{ name: 'y', datatype: 'INT32' as const, shape: [1, 2, 0], data: [] }];
    expect(predictResponse(emptyInner, outputs).predictions).toEqual([[[], []]]);
  });
});
