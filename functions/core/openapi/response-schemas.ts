/** JSON Schemas of ModelGate's answers and error shapes for the OpenAPI document, by component name. */
import { BATCH_STATUSES } from '../batch/manifest.ts';
import { JOB_ID } from '../batch/tenants.ts';
import { V2_DATATYPES } from '../protocols/datatypes.ts';
import { AliasSchema, ManifestSchema, MODEL_NAME, TensorSpecSchema } from '../registry/manifest.ts';
import { fromZod, ref, type Schema, str, USAGE_COUNTS } from './schemas.ts';

const tensor = (data: Schema = { type: 'array' }): Schema => ({
  type: 'object',
  required: ['name', 'shape', 'datatype', 'data'],
  properties: {
    name: str,
    shape: { type: 'array', items: { type: 'integer', minimum: 0 } },
    datatype: { enum: [...V2_DATATYPES] },
    data,
  },
});

/**
 * Answer bodies and error shapes by name. Built on first use, not at import: converting the registry's
 * zod schemas costs milliseconds a cold start of the api function need not pay.
 */
export function responseSchemas(): Record<string, Schema> {
  built ??= buildResponseSchemas();
  return built;
}

let built: Record<string, Schema> | undefined;

const buildResponseSchemas = (): Record<string, Schema> => ({
  Error: {
    type: 'object',
    required: ['error'],
    properties: { error: { type: 'string', description: 'What was wrong and what was expected.' } },
  },
  OpenAIError: {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['message', 'type', 'param', 'code'],
        properties: {
          message: str,
          type: str,
          param: { type: ['string', 'null'] },
          code: { type: ['string', 'null'] },
        },
      },
    },
  },
  GatewayError: {
    type: 'object',
    required: ['message'],
    properties: { message: str },
    description: 'Answered by API Gateway itself: missing or unknown key, throttling, quota, timeouts.',
  },
  TensorSpec: fromZod(TensorSpecSchema),
  OutputTensor: tensor(),
  ModelName: { type: 'string', pattern: MODEL_NAME.source },
  Live: { type: 'object', required: ['live'], properties: { live: { type: 'boolean' } } },
  Ready: { type: 'object', required: ['ready'], properties: { ready: { type: 'boolean' } } },
  ModelReady: {
    type: 'object',
    required: ['name', 'ready'],
    properties: { name: str, ready: { type: 'boolean' } },
  },
  ServerMetadata: {
    type: 'object',
    required: ['name', 'version', 'extensions'],
    properties: { name: str, version: str, extensions: { type: 'array', items: str } },
  },
  ModelList: {
    type: 'object',
    required: ['models'],
    properties: {
      models: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name', 'versions', 'platform'],
          properties: { name: str, versions: { type: 'array', items: str }, platform: str },
        },
      },
    },
  },
  ModelMetadata: {
    type: 'object',
    required: ['name', 'versions', 'platform', 'inputs', 'outputs'],
    properties: {
      name: str,
      versions: { type: 'array', items: str },
      platform: str,
      inputs: { type: 'array', items: ref('TensorSpec') },
      outputs: { type: 'array', items: ref('TensorSpec') },
    },
  },
  InferResponse: {
    type: 'object',
    required: ['model_name', 'model_version', 'outputs'],
    properties: {
      model_name: str,
      model_version: str,
      id: str,
      outputs: { type: 'array', items: ref('OutputTensor') },
    },
  },
  PredictResponse: {
    type: 'object',
    required: ['predictions', 'model_name', 'model_version'],
    properties: {
      predictions: { type: 'array' },
      probabilities: { type: 'array', items: { type: ['object', 'array'] } },
      model_name: str,
      model_version: str,
    },
  },
  OpenAIModelList: {
    type: 'object',
    required: ['object', 'data'],
    properties: {
      object: { const: 'list' },
      data: {
        type: 'array',
        items: {
          type: 'object',
          required: ['id', 'object', 'created', 'owned_by'],
          properties: { id: str, object: { const: 'model' }, created: { type: 'integer' }, owned_by: str },
        },
      },
    },
  },
  BatchJob: {
    type: 'object',
    required: ['id', 'object', 'model', 'status', 'input', 'output', 'output_uri', 'created_at'],
    properties: {
      id: { type: 'string', pattern: JOB_ID.source },
      object: { const: 'batch' },
      model: str,
      status: { enum: ['queued', ...BATCH_STATUSES] },
      input: str,
      output: str,
      output_uri: {
        type: 'string',
        description: 'The output as s3://<bucket>/<output>; empty while output is.',
      },
      created_at: { type: 'string', format: 'date-time' },
      manifest: { type: 'object', description: 'The job manifest once the job has started.' },
    },
  },
  BatchList: {
    type: 'object',
    required: ['object', 'data', 'has_more'],
    properties: {
      object: { const: 'list' },
      data: { type: 'array', items: ref('BatchJob') },
      has_more: { type: 'boolean' },
    },
  },
  BatchRowErrors: {
    type: 'object',
    required: ['object', 'id', 'output', 'data', 'has_more'],
    properties: {
      object: { const: 'list' },
      id: { type: 'string', pattern: JOB_ID.source },
      output: str,
      data: {
        type: 'array',
        items: {
          type: 'object',
          required: ['line', 'error'],
          properties: { line: { type: 'integer', minimum: 1 }, error: str },
        },
      },
      has_more: { type: 'boolean' },
    },
  },
  UsageReport: {
    type: 'object',
    required: ['object', 'from', 'to', 'data', 'totals'],
    properties: {
      object: { const: 'usage' },
      from: { type: 'string', format: 'date' },
      to: { type: 'string', format: 'date' },
      data: {
        type: 'array',
        items: {
          type: 'object',
          required: ['key_id', 'day', 'model', ...USAGE_COUNTS],
          properties: {
            key_id: str,
            day: { type: 'string', format: 'date' },
            model: str,
            ...Object.fromEntries(USAGE_COUNTS.map((count) => [count, { type: 'integer', minimum: 0 }])),
          },
        },
      },
      totals: {
        type: 'object',
        required: [...USAGE_COUNTS],
        properties: Object.fromEntries(USAGE_COUNTS.map((count) => [count, { type: 'integer', minimum: 0 }])),
      },
    },
  },
  MetricsReport: {
    type: 'object',
    required: ['object', 'source', 'namespace', 'from', 'to', 'period_seconds', 'data'],
    properties: {
      object: { const: 'metrics' },
      source: { const: 'cloudwatch' },
      namespace: str,
      from: { type: 'string', format: 'date-time' },
      to: { type: 'string', format: 'date-time' },
      period_seconds: { type: 'integer' },
      data: {
        type: 'array',
        items: {
          type: 'object',
          required: ['model', 'version', 'requests', 'rps', 'client', 'server', 'per_minute'],
          properties: {
            model: str,
            version: str,
            ...Object.fromEntries(
              ['requests', 'rps', 'client', 'server', 'p50', 'p99'].map((n) => [
                n,
                { type: 'number', minimum: 0 },
              ]),
            ),
            per_minute: { type: 'array', items: { type: 'number', minimum: 0 } },
          },
        },
      },
    },
  },
  Manifest: fromZod(ManifestSchema),
  Alias: fromZod(AliasSchema),
  RegistryView: {
    type: 'object',
    required: ['name', 'aliases', 'versions'],
    properties: {
      name: str,
      production: ref('Alias'),
      aliases: { type: 'object', additionalProperties: ref('Alias') },
      versions: { type: 'array', items: ref('Manifest') },
    },
  },
  ChatCompletion: {
    type: 'object',
    required: ['id', 'object', 'created', 'model', 'choices'],
    properties: {
      id: str,
      object: { enum: ['chat.completion', 'text_completion'] },
      created: { type: 'integer' },
      model: str,
      choices: { type: 'array', items: { type: 'object' } },
      usage: {
        type: 'object',
        properties: {
          prompt_tokens: { type: 'integer' },
          completion_tokens: { type: 'integer' },
          total_tokens: { type: 'integer' },
        },
      },
    },
  },
  OpenApiDocument: { type: 'object', required: ['openapi', 'info', 'paths'] },
});
