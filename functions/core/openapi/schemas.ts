/**
 * JSON Schemas of ModelGate's request bodies for the OpenAPI document, derived from the definitions that
 * validate them (the gateway's body schemas, the bounds the OpenAI parser checks), and the schema helpers.
 */
import * as z from 'zod/mini';
import { BODY_SCHEMAS } from '../../api/routes.ts';
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
