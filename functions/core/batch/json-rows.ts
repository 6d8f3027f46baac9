/** Where JSON Lines batch rows are parsed: feature arrays, objects by feature name, nested arrays of a rank 3+ per-row shape, or V2 inputs objects. */
import { isObject } from '../json.ts';
import { flatten, formatShape, nestedElements } from '../protocols/tensors.ts';
import type { Manifest, TensorSpec } from '../registry/manifest.ts';
import { checkValues, type ParsedRow, rowWidth } from './rows.ts';

/**
 * A JSON Lines row: an array of feature values, an object keyed by feature
 * name, an object keyed by the input's name, or a V2 inputs object holding
 * one row.
 */
export function parseJsonRow(line: string, manifest: Manifest, spec: TensorSpec): ParsedRow {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { error: `not JSON (${(error as Error).message})` };
  }
  return parseJsonValue(value, manifest, spec);
}

/** A row already parsed from JSON (as Step Functions' JSONL reader hands it over). */
export function parseJsonValue(value: unknown, manifest: Manifest, spec: TensorSpec): ParsedRow {
  const width = rowWidth(spec);
  if (spec.shape.length > 2) return parseNestedValue(value, spec, width);
  if (Array.isArray(value)) return checkValues(value, width, spec, manifest.features);
  if (!isObject(value))
    return { error: `a ${typeof value}: expected an array of ${width} values or an object` };
  if (Array.isArray(value.inputs)) {
    const data = v2InputData(value.inputs, spec);
    if (!data) return { error: v2InputError(spec) };
    return checkValues(data.flat(), width, spec, manifest.features);
  }
  if (spec.name in value && Array.isArray(value[spec.name])) {
    return checkValues(value[spec.name] as unknown[], width, spec, manifest.features);
  }
  const features = manifest.features;
  if (!features)
    return { error: `an object, but model '${manifest.name}' has no feature names: send arrays` };
  const missing = features.filter((f) => !(f in value));
  if (missing.length > 0) return { error: `missing feature ${missing.map((f) => `'${f}'`).join(', ')}` };
  return checkValues(
    features.map((f) => value[f]),
    width,
    spec,
    features,
  );
}

/**
 * A row of a rank 3+ input: a nested array of the per-row shape, an object
 * keyed by the input's name holding one, or a V2 inputs object of one row.
 */
function parseNestedValue(value: unknown, spec: TensorSpec, width: number): ParsedRow {
  const shape = spec.shape.slice(1);
  const expected = `expected a nested array of shape ${formatShape(shape)} (${width} ${spec.datatype} values)`;
  let nested = value;
  if (isObject(value) && Array.isArray(value.inputs)) {
    const data = v2InputData(value.inputs, spec);
    if (!data) return { error: v2InputError(spec) };
    // V2 data may be flat or nested; its count decides.
    return checkValues(flatten(data, width + 1, 'data'), width, spec, undefined);
  }
  if (isObject(value) && spec.name in value) nested = value[spec.name];
  const elements = nestedElements(nested, shape);
  if (typeof elements === 'string') return { error: `${elements}: ${expected}` };
  return checkValues(elements, width, spec, undefined);
}

/** The data of a V2 inputs object's one input, when it names the model's input; undefined otherwise. */
function v2InputData(inputs: unknown[], spec: TensorSpec): unknown[] | undefined {
  const input = inputs[0];
  if (inputs.length !== 1 || !isObject(input) || input.name !== spec.name || !Array.isArray(input.data)) {
    return undefined;
  }
  return input.data;
}

const v2InputError = (spec: TensorSpec) =>
  `a V2 inputs object must hold one input '${spec.name}' with its data`;
