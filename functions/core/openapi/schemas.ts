/**
 * JSON Schemas of ModelGate's bodies for the OpenAPI document, derived from the
 * definitions that validate them: the gateway's body schemas, the manifest's zod
 * schema, and the bounds the OpenAI parser checks.
 */
import * as z from 'zod/mini';
import { BODY_SCHEMAS } from '../../api/routes.ts';
import { BATCH_STATUSES } from '../batch/manifest.ts';
import { V2_DATATYPES } from '../protocols/datatypes.ts';
import { GENERATION_LIMITS, MAX_STOP, ROLES } from '../protocols/openai.ts';
import { AliasSchema, ManifestSchema, MODEL_NAME, TensorSpecSchema } from '../registry/manifest.ts';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const str = { type: 'string' };

/** A zod schema as plain JSON Schema 2020-12, without the `$schema` key OpenAPI does not want inline. */
/** What a usage line counts (functions/core/usage/report.ts). */
const USAGE_COUNTS = [
  'requests',
  'rows',
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'client_errors',
  'server_errors',
] as const;

export function fromZod(schema: z.ZodMiniType): Schema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12' }) as Schema;
  return rest;
}

const limits = (name: keyof typeof GENERATION_LIMITS, integer = false): Schema => ({
  type: integer ? 'integer' : 'number',
  minimum: GENERATION_LIMITS[name][0],
  maximum: GENERATION_LIMITS[name][1],
});

const generation: Record<string, Schema> = {
  model: { type: 'string', minLength: 1, description: 'A model from GET /v1/models.' },
  max_tokens: limits('max_tokens', true),
  temperature: limits('temperature'),
  top_p: limits('top_p'),
  presence_penalty: limits('presence_penalty'),
  frequency_penalty: limits('frequency_penalty'),
  seed: { type: 'integer' },
  n: { const: 1, description: 'One choice per request.' },
  stop: {
    oneOf: [str, { type: 'array', items: str, maxItems: MAX_STOP }],
    description: `A stop sequence or up to ${MAX_STOP}.`,
  },
  stream: { type: 'boolean', description: 'Answer as server-sent events, one chunk per token.' },
  stream_options: { type: 'object', properties: { include_usage: { type: 'boolean' } } },
};

/** Request bodies by name: the gateway's structural schemas, and the chat function's. */
export const REQUEST_SCHEMAS: Record<string, Schema> = {
  InferRequest: BODY_SCHEMAS.infer as unknown as Schema,
  PredictRequest: BODY_SCHEMAS.predict as unknown as Schema,
  BatchRequest: BODY_SCHEMAS.batch as unknown as Schema,
  ChatRequest: {
    type: 'object',
    required: ['model', 'messages'],
    properties: {
      ...generation,
      max_completion_tokens: limits('max_completion_tokens', true),
      messages: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          required: ['role'],
          properties: {
            role: { enum: [...ROLES] },
            content: {
              oneOf: [
                str,
                { type: 'null' },
                {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['type', 'text'],
                    properties: { type: { const: 'text' }, text: str },
                  },
                },
              ],
            },
            name: str,
            tool_call_id: str,
            tool_calls: { type: 'array', items: { type: 'object' } },
          },
        },
      },
      tools: { type: 'array', items: { type: 'object' } },
      tool_choice: {},
      response_format: {
        type: 'object',
        required: ['type'],
        properties: { type: { enum: ['text', 'json_object', 'json_schema'] } },
      },
      logprobs: { type: 'boolean' },
      top_logprobs: limits('top_logprobs', true),
      user: str,
    },
  },
  CompletionRequest: {
    type: 'object',
    required: ['model', 'prompt'],
    properties: {
      ...generation,
      prompt: { oneOf: [str, { type: 'array', items: str, minItems: 1, maxItems: 1 }] },
      echo: { type: 'boolean' },
    },
  },
};

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

/** Answer bodies and error shapes by name. */
export const RESPONSE_SCHEMAS: Record<string, Schema> = {
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
      id: { type: 'string', pattern: '^batch_[A-Za-z0-9_-]{32}$' },
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
      id: { type: 'string', pattern: '^batch_[A-Za-z0-9_-]{32}$' },
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
};
