/**
 * An OpenAPI 3.1 document for one model (`GET /v2/models/{m}/openapi.json`):
 * its infer and predict bodies with the manifest's input names, shapes,
 * datatypes, feature names and labels, so clients can generate typed code.
 */

import { BODY_SCHEMAS } from '../../api/routes.ts';
import type { V2Datatype } from '../protocols/datatypes.ts';
import { predictInput } from '../protocols/predict.ts';
import { elementCount } from '../protocols/tensors.ts';
import type { Manifest, TensorSpec } from '../registry/manifest.ts';
import { KEYED, OPENAPI_VERSION, SECURITY_SCHEMES } from './document.ts';
import { responseSchemas } from './response-schemas.ts';
import type { Schema } from './schemas.ts';

type Json = Record<string, unknown>;

function element(datatype: V2Datatype): Json {
  if (datatype === 'BOOL') return { type: 'boolean' };
  if (datatype === 'BYTES') return { type: 'string' };
  if (datatype.startsWith('FP')) return { type: 'number' };
  return { type: 'integer', ...(datatype.startsWith('UINT') && { minimum: 0 }) };
}

function sample(datatype: V2Datatype): unknown {
  return datatype === 'BOOL' ? false : datatype === 'BYTES' ? '' : 0;
}

/** The shape of one request tensor: fixed dimensions as constants, -1 as any size. */
function shapeSchema(spec: TensorSpec): Json {
  return {
    type: 'array',
    minItems: spec.shape.length,
    maxItems: spec.shape.length,
    prefixItems: spec.shape.map((d) => (d < 0 ? { type: 'integer', minimum: 0 } : { const: d })),
  };
}

function inputSchema(spec: TensorSpec): Json {
  return {
    type: 'object',
    required: ['name', 'shape', 'datatype', 'data'],
    properties: {
      name: { const: spec.name },
      shape: shapeSchema(spec),
      datatype: { const: spec.datatype },
      data: {
        type: 'array',
        description: 'Row-major elements, flat or nested.',
        items: { oneOf: [element(spec.datatype), { type: 'array' }] },
      },
    },
  };
}

/** One example tensor of a spec: any-size dimensions set to 1, elements zero. */
function exampleTensor(spec: TensorSpec) {
  const shape = spec.shape.map((d) => (d < 0 ? 1 : d));
  return {
    name: spec.name,
    shape,
    datatype: spec.datatype,
    data: Array(elementCount(shape)).fill(sample(spec.datatype)),
  };
}

/** One instance's schema: the per-row shape as nested arrays of fixed length around the element type. */
function rowSchema(spec: TensorSpec): Json {
  return spec.shape
    .slice(1)
    .reduceRight<Json>(
      (items, d) => ({ type: 'array', minItems: d, maxItems: d, items }),
      element(spec.datatype),
    );
}

/** One example instance: the per-row shape filled with zeros. */
function rowExample(spec: TensorSpec): unknown {
  return spec.shape
    .slice(1)
    .reduceRight<unknown>((item, d) => Array.from({ length: d }, () => item), sample(spec.datatype));
}

function predictPaths(manifest: Manifest, spec: TensorSpec): Json {
  const row = rowSchema(spec);
  const features = manifest.features;
  const instance = features
    ? {
        oneOf: [
          row,
          {
            type: 'object',
            required: features,
            additionalProperties: false,
            properties: Object.fromEntries(features.map((f) => [f, element(spec.datatype)])),
          },
        ],
      }
    : row;
  const labels = manifest.labels;
  const example = features
    ? Object.fromEntries(features.map((f) => [f, sample(spec.datatype)]))
    : rowExample(spec);
  // A scalar input takes one instance; a fixed first dimension takes exactly that many.
  const count = spec.shape.length === 0 ? 1 : (spec.shape[0] ?? -1);
  return jsonPost(
    'predict',
    `Predict with ${manifest.name}`,
    {
      schema: {
        type: 'object',
        required: ['instances'],
        properties: {
          instances: {
            type: 'array',
            minItems: Math.max(1, count),
            ...(count > 0 && { maxItems: count }),
            items: instance,
          },
        },
      },
      example: { instances: Array.from({ length: Math.max(1, count) }, () => example) },
    },
    'One prediction per instance',
    {
      type: 'object',
      required: ['predictions', 'model_name', 'model_version'],
      properties: {
        predictions: { type: 'array', ...(labels && { items: { enum: labels } }) },
        ...(labels && {
          probabilities: {
            type: 'array',
            items: {
              type: 'object',
              required: labels,
              properties: Object.fromEntries(labels.map((l) => [l, { type: 'number' }])),
            },
          },
        }),
        model_name: { const: manifest.name },
        model_version: { type: 'string' },
      },
    },
  );
}

/** A keyed POST that takes and answers JSON, with the errors every model route may answer. */
function jsonPost(
  operationId: string,
  summary: string,
  request: { schema: Json; example: unknown },
  answered: string,
  answer: Json,
): Json {
  return {
    post: {
      operationId,
      summary,
      security: KEYED,
      requestBody: { required: true, content: { 'application/json': request } },
      responses: {
        '200': { description: answered, content: { 'application/json': { schema: answer } } },
        ...errors(),
      },
    },
  };
}

function errors(): Json {
  const error = { $ref: '#/components/schemas/Error' };
  const gateway = { $ref: '#/components/schemas/GatewayError' };
  return {
    '400': {
      description: 'Not what this model takes; the message says what it expects',
      content: { 'application/json': { schema: error } },
    },
    '403': { description: 'No key, or an unknown one', content: { 'application/json': { schema: gateway } } },
    '404': { description: 'No such model or version', content: { 'application/json': { schema: error } } },
  };
}

/** The document for one model version. */
export function modelOpenApiDocument(
  manifest: Manifest,
  versions: readonly string[],
  serverVersion: string,
): Json {
  const inputs = manifest.inputs;
  const base = `/v2/models/${manifest.name}`;
  const spec = predictInput(manifest);
  const outputNames = manifest.outputs.map((o) => o.name);
  return {
    openapi: OPENAPI_VERSION,
    info: {
      title: `ModelGate model ${manifest.name}`,
      version: `${manifest.version} (server ${serverVersion})`,
      description: [
        manifest.description,
        `Versions: ${versions.join(', ')}.`,
        manifest.features && `Features: ${manifest.features.join(', ')}.`,
        manifest.labels && `Labels: ${manifest.labels.join(', ')}.`,
      ]
        .filter(Boolean)
        .join(' '),
    },
    // The document is served at <api>/v2/models/<name>/openapi.json.
    servers: [{ url: '../../..' }],
    paths: {
      [`${base}/infer`]: jsonPost(
        'infer',
        `Run ${manifest.name} on V2 tensors`,
        {
          // The gateway's infer body, its inputs and outputs narrowed to this model's.
          schema: {
            ...BODY_SCHEMAS.infer,
            properties: {
              ...BODY_SCHEMAS.infer.properties,
              inputs: {
                type: 'array',
                minItems: inputs.length,
                maxItems: inputs.length,
                items:
                  inputs.length === 1
                    ? inputSchema(inputs[0] as TensorSpec)
                    : { oneOf: inputs.map(inputSchema) },
              },
              outputs: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['name'],
                  properties: { name: { enum: outputNames } },
                },
              },
            },
          },
          example: { inputs: inputs.map(exampleTensor) },
        },
        'The outputs',
        // The reference's InferResponse, its model and output tensors narrowed to this model's.
        narrow(responseSchemas().InferResponse, {
          model_name: { const: manifest.name },
          outputs: {
            type: 'array',
            items: narrow(responseSchemas().OutputTensor, {
              name: { enum: outputNames },
              datatype: { enum: [...new Set(manifest.outputs.map((o) => o.datatype))] },
            }),
          },
        }),
      ),
      ...(spec && { [`/v1/models/${manifest.name}/predict`]: predictPaths(manifest, spec) }),
    },
    components: {
      schemas: { Error: responseSchemas().Error, GatewayError: responseSchemas().GatewayError },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}

/** `schema` with some of its properties replaced. */
function narrow(schema: Schema | undefined, properties: Record<string, Schema>): Schema {
  return { ...schema, properties: { ...(schema?.properties as Record<string, Schema>), ...properties } };
}
