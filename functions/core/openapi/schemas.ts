/**
 * JSON Schemas of ModelGate's request bodies for the OpenAPI document: the very schemas that validate them
 * (the gateway's body schemas, the chat function's request schemas), and the schema helpers.
 */
import * as z from 'zod/mini';
import { BODY_SCHEMAS } from '../../api/routes.ts';
import { CHAT_REQUEST, COMPLETION_REQUEST } from '../protocols/openai-schemas.ts';

export type Schema = Record<string, unknown>;

export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
export const str = { type: 'string' };

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

/** A zod schema as plain JSON Schema 2020-12, without the `$schema` key OpenAPI does not want inline. */
export function fromZod(schema: z.ZodMiniType): Schema {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12' }) as Schema;
  return rest;
}

/** Request bodies by name: the gateway's structural schemas, and the chat function's. */
export const REQUEST_SCHEMAS: Record<string, Schema> = {
  InferRequest: BODY_SCHEMAS.infer as unknown as Schema,
  PredictRequest: BODY_SCHEMAS.predict as unknown as Schema,
  BatchRequest: BODY_SCHEMAS.batch as unknown as Schema,
  ChatRequest: CHAT_REQUEST as Schema,
  CompletionRequest: COMPLETION_REQUEST as Schema,
};
