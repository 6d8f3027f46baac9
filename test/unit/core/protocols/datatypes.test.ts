/**
 * The V2 datatypes against onnxruntime's types: each encoded and decoded (INT64 as BigInt, BOOL, BYTES, FP16),
 * non-finite floats answered as null, and a 400 naming each element of the wrong kind.
 */
import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../../../functions/core/errors.ts';
import {
  decodeElements,
  encodeElements,
  fromHalf,
  fromOrtType,
  toHalf,
  toOrtType,
  V2_DATATYPES,
} from '../../../../functions/core/protocols/datatypes.ts';

const at = (i: number) => `element ${i}`;

describe('V2 datatype mapping', () => {
  it('maps every V2 datatype to an onnxruntime type and back', () => {
    for (const datatype of V2_DATATYPES) expect(fromOrtType(toOrtType(datatype))).toBe(datatype);
  });

  it('refuses onnxruntime types V2 cannot carry', () => {
    expect(() => fromOrtType('complex64')).toThrow(/no Open Inference Protocol datatype/);
  });

  it('encodes INT64 as BigInt64Array and decodes BigInt back to numbers', () => {
    const data = encodeElements([1, -2, 2 ** 40], 'INT64', at);
    expect(data).toBeInstanceOf(BigInt64Array);
    expect(Array.from(data as BigInt64Array)).toEqual([1n, -2n, 2n ** 40n]);
    expect(decodeElements(data as BigInt64Array, 'int64')).toEqual([1, -2, 2 ** 40]);
  });

  it('encodes BOOL from JSON booleans and decodes to booleans', () => {
    const data = encodeElements([true, false, true], 'BOOL', at);
    expect(Array.from(data as Uint8Array)).toEqual([1, 0, 1]);
    expect(decodeElements(data as Uint8Array, 'bool')).toEqual([true, false, true]);
  });

  it('encodes BYTES as strings and float types as typed arrays', () => {
    expect(encodeElements(['a', 'b'], 'BYTES', at)).toEqual(['a', 'b']);
    expect(encodeElements([1.5, 2], 'FP32', at)).toEqual(Float32Array.from([1.5, 2]));
    expect(encodeElements([1.5, 2], 'FP64', at)).toEqual(Float64Array.from([1.5, 2]));
  });

  it('round-trips FP16 through binary16 bits', () => {
    for (const v of [0, 1, -2.5, 65504, 0.000061035156, 0.33325195])
      expect(fromHalf(toHalf(v))).toBeCloseTo(v, 3);
    expect(toHalf(1)).toBe(0x3c00);
    expect(fromHalf(toHalf(1e6))).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(fromHalf(toHalf(Number.NaN)))).toBe(true);
  });

  it('turns non-finite float outputs into null, since JSON has no NaN', () => {
    expect(decodeElements(Float32Array.from([1, Number.NaN, Number.POSITIVE_INFINITY]), 'float32')).toEqual([
      1,
      null,
      null,
    ]);
  });

  it.each([
    ['FP32', ['1.0'], /element 0 is "1.0"; FP32 expects a number/],
    ['INT32', [1.5], /element 0 is 1.5; INT32 expects an integer from -2147483648 to 2147483647/],
    ['UINT8', [256], /element 0 is 256; UINT8 expects an integer from 0 to 255/],
    ['INT8', [1, 2, -129], /element 2 is -129; INT8 expects an integer/],
    ['BOOL', [1], /element 0 is 1; BOOL expects true or false/],
    ['BYTES', [3], /element 0 is 3; BYTES expects a string/],
    ['FP32', [null], /element 0 is null; FP32 expects a number/],
  ] as const)(
    'rejects a %s element of the wrong kind with a 400 that names it',
    (datatype, values, message) => {
      const attempt = () => encodeElements(values, datatype, at);
      expect(attempt).toThrow(BadRequestError);
      expect(attempt).toThrow(message);
    },
  );
});
