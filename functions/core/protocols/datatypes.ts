/**
 * Open Inference Protocol tensor datatypes: their onnxruntime counterparts, JSON elements checked and turned
 * into typed arrays and back, and FP16 conversion.
 */
import { BadRequestError } from '../errors.ts';

/** Open Inference Protocol tensor datatypes. */
export const V2_DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;
export type V2Datatype = (typeof V2_DATATYPES)[number];

/** onnxruntime tensor type names, as `Tensor.type` reports them. */
export type OrtType =
  | 'bool'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float16'
  | 'float32'
  | 'float64'
  | 'string';

const TO_ORT: Record<V2Datatype, OrtType> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};
const FROM_ORT = Object.fromEntries(Object.entries(TO_ORT).map(([v2, ort]) => [ort, v2])) as Record<
  OrtType,
  V2Datatype
>;

export function isV2Datatype(value: unknown): value is V2Datatype {
  return typeof value === 'string' && (V2_DATATYPES as readonly string[]).includes(value);
}

export function toOrtType(datatype: V2Datatype): OrtType {
  return TO_ORT[datatype];
}

/** V2 datatype of an onnxruntime type; throws for types V2 cannot carry. */
export function fromOrtType(type: string): V2Datatype {
  const datatype = FROM_ORT[type as OrtType];
  if (!datatype) throw new Error(`onnxruntime type '${type}' has no Open Inference Protocol datatype`);
  return datatype;
}

const INTEGER_RANGES: Partial<Record<V2Datatype, readonly [number, number]>> = {
  UINT8: [0, 255],
  UINT16: [0, 65_535],
  UINT32: [0, 4_294_967_295],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
  INT8: [-128, 127],
  INT16: [-32_768, 32_767],
  INT32: [-2_147_483_648, 2_147_483_647],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

/** Typed storage onnxruntime accepts for each type. */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | string[];

/**
 * Converts flat JSON elements into the typed array onnxruntime expects,
 * checking every element against the datatype.
 *
 * @param locate names element i in error messages, e.g. `input 'x' element 3`.
 */
export function encodeElements(
  values: readonly unknown[],
  datatype: V2Datatype,
  locate: (i: number) => string,
): TensorData {
  const n = values.length;
  const bad = (i: number, expected: string): never => {
    throw new BadRequestError(
      `${locate(i)} is ${JSON.stringify(values[i]) ?? 'undefined'}; ${datatype} expects ${expected}`,
    );
  };
  switch (datatype) {
    case 'BYTES': {
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'string') bad(i, 'a string');
        out[i] = v as string;
      }
      return out;
    }
    case 'BOOL': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'boolean') bad(i, 'true or false');
        out[i] = v ? 1 : 0;
      }
      return out;
    }
    case 'FP16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number') bad(i, 'a number');
        out[i] = toHalf(v as number);
      }
      return out;
    }
    case 'FP32':
    case 'FP64': {
      const out = datatype === 'FP32' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number') bad(i, 'a number');
        out[i] = v as number;
      }
      return out;
    }
    default: {
      const [min, max] = INTEGER_RANGES[datatype] as readonly [number, number];
      const expected = `an integer from ${min} to ${max}`;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(i, expected);
      }
      const ints = values as readonly number[];
      switch (datatype) {
        case 'INT64':
          return BigInt64Array.from(ints, (v) => BigInt(v));
        case 'UINT64':
          return BigUint64Array.from(ints, (v) => BigInt(v));
        case 'INT8':
          return Int8Array.from(ints);
        case 'INT16':
          return Int16Array.from(ints);
        case 'INT32':
          return Int32Array.from(ints);
        case 'UINT8':
          return Uint8Array.from(ints);
        case 'UINT16':
          return Uint16Array.from(ints);
        default:
          return Uint32Array.from(ints);
      }
    }
  }
}

/** JSON elements of an onnxruntime output: BigInt to number, bool to boolean, NaN/±Inf to null. */
export function decodeElements(
  data: ArrayLike<unknown>,
  type: string,
): Array<number | boolean | string | null> {
  const n = data.length;
  const out = new Array<number | boolean | string | null>(n);
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (typeof v === 'bigint') out[i] = Number(v);
    else if (type === 'bool') out[i] = Boolean(v);
    else if (type === 'float16') out[i] = finite(fromHalf(v as number));
    else if (typeof v === 'number') out[i] = finite(v);
    else out[i] = v as string;
  }
  return out;
}

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bits of a number, round to nearest even. */
export function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant = (mant | 0x800000) >>> (1 - e);
    if ((mant & 0x1fff) > 0x1000 || ((mant & 0x1fff) === 0x1000 && mant & 0x2000)) mant += 0x2000;
    return sign | (mant >>> 13);
  }
  if ((mant & 0x1fff) > 0x1000 || ((mant & 0x1fff) === 0x1000 && mant & 0x2000)) {
    mant += 0x2000;
    if (mant & 0x800000) {
      mant = 0;
      e += 1;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | (mant >>> 13);
}

/** The number an IEEE 754 binary16 bit pattern stands for. */
export function fromHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
