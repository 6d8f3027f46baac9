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
 * Turns `{"instances": [...]}` into the model's single input tensor. An
 * instance is an array of feature values, an object keyed by the manifest's
 * feature names, or a bare number for a one-feature model; for an input of
 * rank 3 or more (an image, a sequence) it is a nested array of the per-row
 * shape, e.g. `[[[...8 values], ...8 rows]]` for `[-1, 1, 8, 8]`.
 *
 * @throws BadRequestError saying what was wrong and what was expected.
 */
export function parsePredictRequest(body: unknown, manifest: Manifest, maxElements: number): InputTensor {
  const spec = singleInput(manifest);
  const perRow = elementCount(spec.shape.slice(1));
  if (!isObject(body) || !Array.isArray(body.instances)) {
    throw new BadRequestError(`request body must be a JSON object ${FORM}: ${expectation(manifest, spec)}`);
  }
  const instances = body.instances;
  if (instances.length === 0)
    throw new BadRequestError(`"instances" is empty: ${expectation(manifest, spec)}`);
  if (instances.length * perRow > maxElements) {
    throw new BadRequestError(
      `${instances.length} instances of ${perRow} values are ${instances.length * perRow} elements; the limit is ${maxElements} per request`,
    );
  }
  const elements: unknown[] = [];
  instances.forEach((instance: unknown, i: number) => {
    const values = instanceValues(instance, i, manifest, spec, perRow);
    if (values.length !== perRow) {
      throw new BadRequestError(`instance ${i} has ${values.length} values; ${expectation(manifest, spec)}`);
    }
    for (const v of values) elements.push(v);
  });
  const shape = [instances.length, ...spec.shape.slice(1)];
  return inputTensor(spec.name, spec.datatype, shape, elements, (e) => {
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
  perRow: number,
): unknown[] {
  if (spec.shape.length > 2) {
    const elements = nestedElements(instance, spec.shape.slice(1));
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
  if (perRow === 1 && spec.shape.length === 2) return [instance];
  throw new BadRequestError(`instance ${i} is ${JSON.stringify(instance)}; ${expectation(manifest, spec)}`);
}

function singleInput(manifest: Manifest): TensorSpec {
  const spec = manifest.inputs[0];
  const fixedRows = spec ? spec.shape.slice(1).every((d) => d > 0) : false;
  if (!spec || manifest.inputs.length !== 1 || spec.shape.length < 2 || !fixedRows) {
    throw new BadRequestError(
      `model '${manifest.name}' takes ${describeSpecs(manifest.inputs)}; the predict route needs one input of shape [-1, features]: use POST /v2/models/${manifest.name}/infer`,
    );
  }
  return spec;
}

function expectation(manifest: Manifest, spec: TensorSpec): string {
  const perRow = elementCount(spec.shape.slice(1));
  if (spec.shape.length > 2) {
    return `model '${manifest.name}' expects each instance to be a nested array of shape ${formatShape(spec.shape.slice(1))} of ${spec.datatype} values (${perRow} in all)`;
  }
  const names = manifest.features ? ` (${manifest.features.join(', ')})` : '';
  return `model '${manifest.name}' expects each instance to be an array of ${perRow} ${spec.datatype} values${names}, shape ${formatShape(spec.shape.slice(1))}`;
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
