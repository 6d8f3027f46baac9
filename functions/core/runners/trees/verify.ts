/**
 * How a compiled program is checked against onnxruntime before it serves: probe rows around every
 * threshold, and a bit-for-bit comparison of the two results.
 */
import type { TreeProgram } from './program.ts';

const MAX_PROBE_ROWS = 8192;

/**
 * Rows that take every branch of every tree: each feature goes through its
 * thresholds, the float32 values just below and above each, and 0, NaN and
 * ±Infinity, in order, then in pseudo-random combinations.
 */
export function probeRows(program: Pick<TreeProgram, 'thresholds' | 'features'>): {
  data: Float32Array;
  rows: number;
} {
  const candidates = program.thresholds.map((list) => {
    const values = [0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    for (const t of list) values.push(t, nextFloat32(t, -1), nextFloat32(t, 1));
    return values;
  });
  const longest = Math.max(...candidates.map((c) => c.length));
  const rows = Math.min(2 * longest, MAX_PROBE_ROWS);
  const data = new Float32Array(rows * program.features);
  let seed = 7;
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < program.features; f++) {
      const c = candidates[f] as number[];
      seed = (seed * 16807) % 2147483647;
      data[r * program.features + f] = c[(r < longest ? r : seed) % c.length] as number;
    }
  }
  return { data, rows };
}

const bits = new Float32Array(1);
const word = new Int32Array(bits.buffer);

/** The next float32 after `value` towards +∞ (direction 1) or −∞ (−1). */
function nextFloat32(value: number, direction: 1 | -1): number {
  if (!Number.isFinite(value)) return value;
  if (value === 0) return direction * 2 ** -149;
  bits[0] = value;
  word[0] = (word[0] as number) + (value > 0 === direction > 0 ? 1 : -1);
  return bits[0] as number;
}

/**
 * The rule compiled trees are held to before they serve, and checked against on probe rows:
 * labels exactly onnxruntime's; float scores bit for bit, or for LOGISTIC and SOFTMAX classifiers
 * within this many float32 ulps (onnxruntime's exp is the C library's expf, the program's is V8's
 * Math.exp rounded to float32; they part in the last bit on rare arguments). Property-tested against
 * onnxruntime in test/unit/core/runners/trees-boosted.test.ts.
 */
export const TRANSFORMED_ULPS = 4;

/**
 * True when two results hold the same tensors, element for element (NaN equal to NaN), float32
 * elements within `ulps` float32 ulps of each other and every other element identical.
 */
export function withinRule(
  a: Record<string, { dims: readonly number[]; data: unknown }>,
  b: Record<string, { dims: readonly number[]; data: unknown }>,
  names: readonly string[],
  ulps: number,
): boolean {
  return names.every((name) => {
    const x = a[name];
    const y = b[name];
    if (!x || !y || x.dims.map(Number).join() !== y.dims.map(Number).join()) return false;
    const p = x.data as ArrayLike<unknown>;
    const q = y.data as ArrayLike<unknown>;
    if (p.length !== q.length) return false;
    const floats = ulps > 0 && p instanceof Float32Array && q instanceof Float32Array;
    for (let i = 0; i < p.length; i++) {
      if (Object.is(p[i], q[i])) continue;
      if (!floats || ulpDistance(p[i] as number, q[i] as number) > ulps) return false;
    }
    return true;
  });
}

/** True when two results hold the same tensors, element for element (NaN equal to NaN). */
export function sameResults(
  a: Record<string, { dims: readonly number[]; data: unknown }>,
  b: Record<string, { dims: readonly number[]; data: unknown }>,
  names: readonly string[],
): boolean {
  return withinRule(a, b, names, 0);
}

/** float32 values apart from x to y, counting ±0 as one value; NaN is infinitely far from any number. */
export function ulpDistance(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y))
    return Number.isNaN(x) && Number.isNaN(y) ? 0 : Number.POSITIVE_INFINITY;
  return Math.abs(ordered(x) - ordered(y));
}

/** The float32's position on the number line as an integer: adjacent floats differ by 1. */
function ordered(value: number): number {
  bits[0] = value;
  const w = word[0] as number;
  return w < 0 ? -(w & 0x7fffffff) : w;
}
