/**
 * JSON Schemas of ModelGate's request bodies for the OpenAPI document, derived from the definitions that
 * validate them (the gateway's body schemas, the bounds the OpenAI parser checks), and the schema helpers.
 */
import * as z from 'zod/mini';
import { BODY_SCHEMAS } from '../../api/routes.ts';
import { RESPONSE_FORMATS } from '../protocols/chat-parts.ts';
import { GENERATION_LIMITS, MAX_STOP, ROLES } from '../protocols/openai.ts';

export type Schema = Record<string, unknown>;

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
export const str = { type: 'string' };

/** A zod schema as plain JSON Schema 2020-12, without the `$schema` key OpenAPI does not want inline. */
/** What a usage line counts (functions/core/usage/report.ts). */
export const USAGE_COUNTS = [
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

/** A bounded number the parser checks; null is taken as absent, as OpenAI's API takes it. */
const limits = (name: keyof typeof GENERATION_LIMITS, integer = false): Schema => ({
  type: [integer ? 'integer' : 'number', 'null'],
  minimum: GENERATION_LIMITS[name][0],
  maximum: GENERATION_LIMITS[name][1],
});

/** "If `condition`, then `consequence`", spelt without a `then` key (an object with one is a thenable). */
const implies = (condition: Schema, consequence: Schema): Schema => ({
  anyOf: [{ not: condition }, consequence],
});

/** `stream_options` only with `stream: true`, as the parser requires. */
const streamOptionsNeedStream = implies(
  { required: ['stream_options'], properties: { stream_options: { type: 'object' } } },
  { required: ['stream'], properties: { stream: { const: true } } },
);

/** Optional parameters of both routes; null stands for absent wherever the parser reads it so. */
const generation: Record<string, Schema> = {
  model: { type: 'string', minLength: 1, description: 'A model from GET /v1/models.' },
  max_tokens: limits('max_tokens', true),
  temperature: limits('temperature'),
  top_p: limits('top_p'),
  presence_penalty: limits('presence_penalty'),
  frequency_penalty: limits('frequency_penalty'),
  seed: { type: ['integer', 'null'] },
  n: { enum: [1, null], description: 'One choice per request.' },
  stop: {
    oneOf: [str, { type: 'array', items: str, maxItems: MAX_STOP }, { type: 'null' }],
    description: `A stop sequence or up to ${MAX_STOP}.`,
  },
  stream: { type: ['boolean', 'null'], description: 'Answer as server-sent events, one chunk per token.' },
  stream_options: {
    type: ['object', 'null'],
    properties: { include_usage: { type: 'boolean' } },
    description: "Only with 'stream': true.",
  },
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
      tools: { type: ['array', 'null'], items: { type: 'object' } },
      tool_choice: {},
      response_format: {
        type: ['object', 'null'],
        required: ['type'],
        properties: {
          type: { enum: [...RESPONSE_FORMATS] },
          json_schema: {
            type: 'object',
            required: ['name'],
            properties: { name: str, schema: { type: 'object' }, strict: { type: ['boolean', 'null'] } },
          },
        },
        ...implies(
          { required: ['type'], properties: { type: { const: 'json_schema' } } },
          { required: ['json_schema'] },
        ),
      },
      logprobs: { type: ['boolean', 'null'] },
      top_logprobs: { ...limits('top_logprobs', true), description: "Only with 'logprobs': true." },
      user: str,
    },
    allOf: [
      streamOptionsNeedStream,
      implies(
        { required: ['top_logprobs'], properties: { top_logprobs: { type: 'integer' } } },
        { required: ['logprobs'], properties: { logprobs: { const: true } } },
      ),
    ],
  },
  CompletionRequest: {
    type: 'object',
    required: ['model', 'prompt'],
    properties: {
      ...generation,
      prompt: { oneOf: [str, { type: 'array', items: str, minItems: 1, maxItems: 1 }] },
      echo: { type: 'boolean' },
      suffix: { type: 'null', description: 'Not supported.' },
      best_of: { enum: [1, null], description: 'One completion per request.' },
      logprobs: { type: 'null', description: 'Not supported on this route.' },
    },
    allOf: [streamOptionsNeedStream],
  },
};
