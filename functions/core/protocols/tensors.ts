/**
 * Tensor helpers the protocols share: shapes described and matched, nested JSON data flattened within a
 * limit, typed input tensors built, and output tensors split into rows.
 */
import { BadRequestError } from '../errors.ts';
import type { TensorSpec } from '../registry/manifest.ts';
import type { InputTensor, OutputTensor } from '../runners/runner.ts';
import { encodeElements, type V2Datatype } from './datatypes.ts';

/** Deepest nesting accepted in tensor data. */
const MAX_DEPTH = 32;

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function describeSpecs(specs: readonly TensorSpec[]): string {
  return specs.map((s) => `${s.name} (${s.datatype} ${formatShape(s.shape)})`).join(', ');
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** True when `shape` fits `spec` (same rank, fixed dimensions equal). */
export function shapeMatches(shape: readonly number[], spec: readonly number[]): boolean {
  return shape.length === spec.length && shape.every((d, i) => spec[i] === -1 || spec[i] === d);
}

/**
 * Flattens row-major nested data, refusing more than `limit` elements or
 * nesting deeper than MAX_DEPTH without recursing on the call stack.
 */
export function flatten(data: readonly unknown[], limit: number, what: string): unknown[] {
  const out: unknown[] = [];
  const stack: Array<{ items: readonly unknown[]; index: number }> = [{ items: data, index: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as { items: readonly unknown[]; index: number };
    if (top.index >= top.items.length) {
      stack.pop();
      continue;
    }
    const item = top.items[top.index++];
    if (Array.isArray(item)) {
      if (stack.length >= MAX_DEPTH)
        throw new BadRequestError(`${what} is nested deeper than ${MAX_DEPTH} levels`);
      stack.push({ items: item, index: 0 });
    } else {
      if (out.length >= limit)
        throw new BadRequestError(`${what} has more than the ${limit} elements expected`);
      out.push(item);
    }
  }
  return out;
}

/** Builds one typed input tensor from flat JSON elements. */
export function inputTensor(
  name: string,
  datatype: V2Datatype,
  shape: readonly number[],
  elements: readonly unknown[],
  locate: (i: number) => string,
): InputTensor {
  return { name, datatype, shape, data: encodeElements(elements, datatype, locate) };
}

/**
 * Rows of a `[N, ...]` output: a scalar per row when each row holds one
 * element, a flat array for `[N, C]`, nested arrays of the per-row shape for
 * rank 3 or more (`[[[...]]]` for `[N, 1, 2, 2]`); a rank-0 output is one row.
 */
export function rows(output: OutputTensor): unknown[] {
  const n = output.shape[0] ?? output.data.length;
  if (n === 0) return [];
  const width = output.data.length / n;
  if (width === 1) return output.data.slice();
  const rowShape = output.shape.slice(1);
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    const row = output.data.slice(i * width, (i + 1) * width);
    out[i] = rowShape.length > 1 ? nest(row, rowShape) : row;
  }
  return out;
}

/** Row-major elements as nested arrays of `shape`. */
function nest(data: readonly unknown[], shape: readonly number[]): unknown[] {
  const [size = 0, ...inner] = shape;
  if (inner.length === 0) return data.slice();
  const step = elementCount(inner);
  return Array.from({ length: size }, (_, i) => nest(data.slice(i * step, (i + 1) * step), inner));
}

/**
 * Flat row-major elements of `value` when it is a nested array of exactly
 * `shape` (no -1 in it), else a string saying what it is instead, e.g.
 * "shape [64]" or "a number at [0,3]".
 */
export function nestedElements(value: unknown, shape: readonly number[]): unknown[] | string {
  const out: unknown[] = [];
  const walk = (item: unknown, depth: number, at: number[]): string | undefined => {
    if (depth === shape.length) {
      if (Array.isArray(item)) return `an array at ${formatShape(at)} where a value belongs`;
      out.push(item);
      return undefined;
    }
    if (!Array.isArray(item)) {
      return depth === 0
        ? `${JSON.stringify(item) ?? 'missing'}`
        : `a value at ${formatShape(at)} where an array of ${shape[depth]} belongs`;
    }
    if (item.length !== shape[depth]) {
      return depth === 0
        ? `shape ${formatShape(describedShape(item))}`
        : `an array of ${item.length} at ${formatShape(at)} where ${shape[depth]} belong`;
    }
    for (let i = 0; i < item.length; i++) {
      const problem = walk(item[i], depth + 1, [...at, i]);
      if (problem) return problem;
    }
    return undefined;
  };
  const problem = walk(value, 0, []);
  return problem ?? out;
}

/** The shape a nested array appears to have, following first elements (for messages). */
function describedShape(item: readonly unknown[]): number[] {
  const shape: number[] = [];
  let level: unknown = item;
  while (Array.isArray(level) && shape.length < MAX_DEPTH) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}
