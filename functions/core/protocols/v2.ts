/**
 * Open Inference Protocol (V2): validates an infer request against the model's manifest and shapes its
 * answer and the model's metadata.
 */
import { BadRequestError } from '../errors.ts';
import { isObject } from '../json.ts';
import type { Manifest } from '../registry/manifest.ts';
import type { InputTensor, OutputTensor } from '../runners/runner.ts';
import { isV2Datatype, V2_DATATYPES } from './datatypes.ts';
import { describeSpecs, elementCount, flatten, formatShape, inputTensor, shapeMatches } from './tensors.ts';

/** Platform string of ONNX models in the Open Inference Protocol. */
export const ONNX_PLATFORM = 'onnxruntime_onnx';

export interface InferRequest {
  readonly id?: string;
  readonly inputs: InputTensor[];
  /** Requested outputs by name; undefined means all. */
  readonly outputs?: string[];
}

const TENSOR_FORM = '{"name", "shape", "datatype", "data"}';

/**
 * Validates an Open Inference Protocol infer request against a model's
 * manifest and converts it to typed tensors.
 *
 * @throws BadRequestError saying what was wrong and what was expected.
 */
export function parseInferRequest(body: unknown, manifest: Manifest, maxElements: number): InferRequest {
  if (!isObject(body)) {
    throw new BadRequestError(`request body must be a JSON object with an "inputs" array of ${TENSOR_FORM}`);
  }
  if (body.id !== undefined && typeof body.id !== 'string') {
    throw new BadRequestError('"id" must be a string when given');
  }
  if (body.parameters !== undefined && !isObject(body.parameters)) {
    throw new BadRequestError('"parameters" must be a JSON object when given');
  }
  if (!Array.isArray(body.inputs) || body.inputs.length === 0) {
    throw new BadRequestError(
      `"inputs" must be a non-empty array of ${TENSOR_FORM}; model '${manifest.name}' expects ${describeSpecs(manifest.inputs)}`,
    );
  }

  let budget = maxElements;
  const seen = new Set<string>();
  const inputs = body.inputs.map((raw: unknown, i: number): InputTensor => {
    if (!isObject(raw)) throw new BadRequestError(`inputs[${i}] must be an object ${TENSOR_FORM}`);
    const { name, shape, datatype, data } = raw;
    if (typeof name !== 'string') {
      throw new BadRequestError(
        `inputs[${i}].name must be a string naming a model input; model '${manifest.name}' expects ${describeSpecs(manifest.inputs)}`,
      );
    }
    const spec = manifest.inputs.find((s) => s.name === name);
    if (!spec) {
      throw new BadRequestError(
        `unknown input '${name}'; model '${manifest.name}' expects ${describeSpecs(manifest.inputs)}`,
      );
    }
    if (seen.has(name)) throw new BadRequestError(`input '${name}' is given twice`);
    seen.add(name);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new BadRequestError(
        `input '${name}': "shape" must be an array of non-negative integers, like ${formatShape(spec.shape.map((d) => (d < 0 ? 1 : d)))}`,
      );
    }
    if (!isV2Datatype(datatype)) {
      throw new BadRequestError(
        `input '${name}': datatype ${JSON.stringify(datatype) ?? 'is missing'}${datatype === undefined ? '' : ' is not a V2 datatype'}; expected ${spec.datatype} (one of ${V2_DATATYPES.join(', ')})`,
      );
    }
    if (datatype !== spec.datatype) {
      throw new BadRequestError(
        `input '${name}' has datatype ${datatype} but model '${manifest.name}' expects ${spec.datatype}`,
      );
    }
    if (!shapeMatches(shape, spec.shape)) {
      throw new BadRequestError(
        `input '${name}' has shape ${formatShape(shape)} but model '${manifest.name}' expects ${formatShape(spec.shape)} (-1 = any size)`,
      );
    }
    const count = elementCount(shape);
    if (count > budget) {
      throw new BadRequestError(
        `input '${name}' has ${count} elements (shape ${formatShape(shape)}); the limit is ${maxElements} elements per request`,
      );
    }
    budget -= count;
    if (!Array.isArray(data)) {
      throw new BadRequestError(`input '${name}': "data" must be an array (flat or nested, row-major)`);
    }
    const elements = flatten(data, count, `input '${name}' data`);
    if (elements.length !== count) {
      throw new BadRequestError(
        `input '${name}' has ${elements.length} data elements but shape ${formatShape(shape)} needs ${count}`,
      );
    }
    return inputTensor(name, datatype, shape, elements, (e) => `input '${name}' element ${e}`);
  });

  const missing = manifest.inputs.filter((s) => !seen.has(s.name));
  if (missing.length > 0) {
    throw new BadRequestError(
      `missing input ${missing.map((s) => `'${s.name}'`).join(', ')}; model '${manifest.name}' expects ${describeSpecs(manifest.inputs)}`,
    );
  }

  return {
    ...(typeof body.id === 'string' && { id: body.id }),
    inputs,
    ...(body.outputs !== undefined && { outputs: parseOutputs(body.outputs, manifest) }),
  };
}

function parseOutputs(raw: unknown, manifest: Manifest): string[] {
  const known = manifest.outputs.map((o) => o.name).join(', ');
  if (!Array.isArray(raw)) {
    throw new BadRequestError(
      `"outputs" must be an array of {"name"}; model '${manifest.name}' has ${known}`,
    );
  }
  return raw.map((o: unknown, i: number) => {
    const name = isObject(o) ? o.name : undefined;
    if (typeof name !== 'string') throw new BadRequestError(`outputs[${i}] must be an object {"name"}`);
    if (!manifest.outputs.some((s) => s.name === name)) {
      throw new BadRequestError(`unknown output '${name}'; model '${manifest.name}' has outputs ${known}`);
    }
    return name;
  });
}

export function inferResponse(manifest: Manifest, request: InferRequest, outputs: OutputTensor[]) {
  return {
    model_name: manifest.name,
    model_version: manifest.version,
    ...(request.id !== undefined && { id: request.id }),
    outputs,
  };
}

export function modelMetadata(manifest: Manifest, versions: string[]) {
  return {
    name: manifest.name,
    versions,
    platform: ONNX_PLATFORM,
    inputs: manifest.inputs,
    outputs: manifest.outputs,
  };
}
