/**
 * The simple predict route (`POST /v1/models/{model}/predict`): `{"instances"}` turned into the model's input
 * tensor, and its outputs shaped as predictions (class names, probabilities by class).
 */
import { BadRequestError } from '../errors.ts';
import { isObject } from '../json.ts';
import type { Manifest, TensorSpec } from '../registry/manifest.ts';
import type { InputTensor, OutputTensor } from '../runners/runner.ts';
import {
  describeSpecs,
  elementCount,
  flatten,
  formatShape,
  inputTensor,
  nestedElements,
  rows,
} from './tensors.ts';

const FORM = '{"instances": [[...], ...]}';

/**
 * The input the predict route fills, or undefined when it cannot: one input
 * whose first dimension is the batch (one instance per row) and whose other
 * dimensions are fixed (0 allowed: an empty dimension), or one rank-0 input
 * (a scalar, no batch dimension: exactly one instance).
 */
export function predictInput(manifest: Manifest): TensorSpec | undefined {
  const spec = manifest.inputs[0];
  if (!spec || manifest.inputs.length !== 1) return undefined;
  if (spec.shape.length === 0) return spec;
  if (spec.shape[0] === 0) return undefined;
  return spec.shape.slice(1).every((d) => d >= 0) ? spec : undefined;
}

/**
 * Turns `{"instances": [...]}` into the model's single input tensor, one
 * instance per row of the batch dimension. An instance has the per-row shape
 * (the input's shape without its first dimension): a bare value for an input
 * `[-1]`; for `[-1, F]` an array of F values, an object keyed by the manifest's
 * feature names, or a bare value when F is 1; for rank 3 or more, or an empty
 * dimension, a nested array of exactly the per-row shape (`[[[...8], ...8]]` for
 * `[-1, 1, 8, 8]`, `[]` for `[-1, 0]`). A rank-0 input has no batch dimension:
 * it takes exactly one instance, a bare value; a fixed first dimension takes
 * exactly that many instances.
 *
 * @throws BadRequestError saying what was wrong and what was expected.
 */
export function parsePredictRequest(body: unknown, manifest: Manifest, maxElements: number): InputTensor {
  const spec = singleInput(manifest);
  const rowShape = spec.shape.slice(1);
  const perRow = elementCount(rowShape);
  if (!isObject(body) || !Array.isArray(body.instances)) {
    throw new BadRequestError(`request body must be a JSON object ${FORM}: ${expectation(manifest, spec)}`);
  }
  const instances = body.instances;
  if (instances.length === 0)
    throw new BadRequestError(`"instances" is empty: ${expectation(manifest, spec)}`);
  if (spec.shape.length === 0 && instances.length !== 1) {
    throw new BadRequestError(`${instances.length} instances sent; ${expectation(manifest, spec)}`);
  }
  const fixedRows = spec.shape[0] ?? -1;
  if (fixedRows > 0 && instances.length !== fixedRows) {
    throw new BadRequestError(
      `${instances.length} instances sent; model '${manifest.name}' takes exactly ${fixedRows} (its input shape ${formatShape(spec.shape)} fixes the batch dimension)`,
    );
  }
  if (instances.length * perRow > maxElements) {
    throw new BadRequestError(
      `${instances.length} instances of ${perRow} values are ${instances.length * perRow} elements; the limit is ${maxElements} per request`,
    );
  }
  const elements: unknown[] = [];
  instances.forEach((instance: unknown, i: number) => {
    const values = instanceValues(instance, i, manifest, spec, rowShape, perRow);
    if (values.length !== perRow) {
      throw new BadRequestError(`instance ${i} has ${values.length} values; ${expectation(manifest, spec)}`);
    }
    for (const v of values) elements.push(v);
  });
  const shape = spec.shape.length === 0 ? [] : [instances.length, ...rowShape];
  return inputTensor(spec.name, spec.datatype, shape, elements, (e) => {
    // Called only for an element that exists, so never with perRow 0 (an empty dimension, no elements).
    const feature = e % perRow;
    const name = manifest.features?.[feature];
    return `instance ${Math.floor(e / perRow)} value ${feature}${name ? ` (${name})` : ''}`;
  });
}

function instanceValues(
  instance: unknown,
  i: number,
  manifest: Manifest,
  spec: TensorSpec,
  rowShape: readonly number[],
  perRow: number,
): unknown[] {
  if (rowShape.length === 0) {
    // A scalar per row (input [-1]) or the whole input (input []): one value, never an array or object.
    if (Array.isArray(instance) || isObject(instance)) {
      throw new BadRequestError(
        `instance ${i} is ${Array.isArray(instance) ? `an array of ${instance.length}` : 'an object'}; ${expectation(manifest, spec)}`,
      );
    }
    return [instance];
  }
  if (rowShape.length > 1 || perRow === 0) {
    const elements = nestedElements(instance, rowShape);
    if (typeof elements === 'string') {
      throw new BadRequestError(`instance ${i} is ${elements}; ${expectation(manifest, spec)}`);
    }
    return elements;
  }
  if (Array.isArray(instance)) return flatten(instance, perRow + 1, `instance ${i}`);
  if (isObject(instance)) {
    const features = manifest.features;
    if (!features) {
      throw new BadRequestError(
        `instance ${i} is an object but model '${manifest.name}' has no feature names; send arrays of ${perRow} values`,
      );
    }
    const unknown = Object.keys(instance).filter((k) => !features.includes(k));
    if (unknown.length > 0) {
      throw new BadRequestError(
        `instance ${i} has unknown feature ${unknown.map((k) => `'${k}'`).join(', ')}; expected ${features.join(', ')}`,
      );
    }
    return features.map((f) => {
      if (!(f in instance)) throw new BadRequestError(`instance ${i} is missing feature '${f}'`);
      return instance[f];
    });
  }
  if (perRow === 1) return [instance];
  throw new BadRequestError(`instance ${i} is ${JSON.stringify(instance)}; ${expectation(manifest, spec)}`);
}

function singleInput(manifest: Manifest): TensorSpec {
  const spec = predictInput(manifest);
  if (!spec) {
    throw new BadRequestError(
      `model '${manifest.name}' takes ${describeSpecs(manifest.inputs)}; the predict route needs one input of shape [-1, features] or [-1, fixed dims...] (the first dimension is the batch), or a scalar input []: use POST /v2/models/${manifest.name}/infer`,
    );
  }
  return spec;
}

/** What an instance must be, naming the input's shape and the per-row shape. */
function expectation(manifest: Manifest, spec: TensorSpec): string {
  const model = `model '${manifest.name}'`;
  const rowShape = spec.shape.slice(1);
  const perRow = elementCount(rowShape);
  if (spec.shape.length === 0) {
    return `${model} takes one ${spec.datatype} value, its input '${spec.name}' being a scalar (shape [], no batch dimension): send {"instances": [value]}`;
  }
  if (rowShape.length === 0) {
    return `${model} expects each instance to be one ${spec.datatype} value (input shape ${formatShape(spec.shape)}: a scalar per instance)`;
  }
  if (rowShape.length > 1 || perRow === 0) {
    const empty = perRow === 0 ? `, an empty dimension in input shape ${formatShape(spec.shape)}` : '';
    return `${model} expects each instance to be a nested array of shape ${formatShape(rowShape)} of ${spec.datatype} values (${perRow} in all${empty})`;
  }
  const names = manifest.features ? ` (${manifest.features.join(', ')})` : '';
  return `${model} expects each instance to be an array of ${perRow} ${spec.datatype} values${names}, shape ${formatShape(rowShape)}`;
}

export interface PredictResponse {
  predictions: unknown[];
  probabilities?: unknown[];
  model_name: string;
  model_version: string;
}

/**
 * Shapes outputs as predictions: a classifier's `label` ids become the
 * manifest's class names (a rewritten ZipMap classifier's labels are the class
 * values themselves) and `probabilities` rows become `{class: p}`;
 * any other model's first output gives one value (or row) per instance.
 */
export function predictResponse(manifest: Manifest, outputs: OutputTensor[]): PredictResponse {
  const names = manifest.classifier ?? { label: 'label', probabilities: 'probabilities' };
  const label = outputs.find((o) => o.name === names.label);
  const probabilities = outputs.find((o) => o.name === names.probabilities);
  const labels = manifest.labels;
  // Class values (a rewritten ZipMap's classifier) answer as they are; class ids name a label.
  const byId = labels && manifest.classifier === undefined;
  const predictions = label
    ? rows(label).map((id) => (byId && typeof id === 'number' ? (labels[id] ?? id) : id))
    : rows(outputs[0] as OutputTensor);
  return {
    predictions,
    ...(probabilities && {
      probabilities: rows(probabilities).map((row) =>
        labels && Array.isArray(row) ? Object.fromEntries(labels.map((l, i) => [l, row[i]])) : row,
      ),
    }),
    model_name: manifest.name,
    model_version: manifest.version,
  };
}
