/**
 * The parts of an OpenAI chat request beyond text: assistant tool calls,
 * `response_format`, and the log-probability shape answers carry.
 */
import { BadRequestError } from '../errors.ts';
import { isObject } from '../json.ts';

/** Refuses a request, naming the parameter: OpenAI's `invalid_value`. */
export function bad(message: string, param: string): never {
  throw new BadRequestError(message, { param, code: 'invalid_value' });
}

/** A tool call of an assistant message, as OpenAI shapes it. */
export interface ToolCall {
  readonly id: string;
  readonly type: 'function';
  readonly function: { readonly name: string; readonly arguments: string };
}

/** OpenAI's `response_format`: `text` (the default), `json_object`, or `json_schema` with its schema. */
export type ResponseFormat =
  | { readonly type: 'text' }
  | { readonly type: 'json_object' }
  | {
      readonly type: 'json_schema';
      readonly json_schema: {
        readonly name: string;
        readonly schema?: unknown;
        readonly strict?: boolean | null;
      };
    };

/** One token's log probability, as OpenAI's `logprobs.content` lists them. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes: number[] | null;
  top_logprobs: Array<{ token: string; logprob: number; bytes: number[] | null }>;
}

/** An assistant message's `tool_calls`, checked: each `{id, type: "function", function: {name, arguments}}`. */
export function parseToolCalls(raw: unknown, i: number): ToolCall[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const param = `messages[${i}].tool_calls`;
  if (!Array.isArray(raw)) bad(`${param} must be an array of tool calls`, param);
  return raw.map((call: unknown, j: number) => {
    const fn = isObject(call) && isObject(call.function) ? call.function : undefined;
    if (
      !isObject(call) ||
      typeof call.id !== 'string' ||
      !fn ||
      typeof fn.name !== 'string' ||
      typeof fn.arguments !== 'string'
    ) {
      bad(
        `${param}[${j}] must be {"id", "type": "function", "function": {"name", "arguments": "<JSON text>"}}`,
        param,
      );
    }
    return { id: call.id, type: 'function' as const, function: { name: fn.name, arguments: fn.arguments } };
  });
}

/** The `response_format` types a chat request may name: the parser checks them, the OpenAPI document lists them. */
export const RESPONSE_FORMATS = ['text', 'json_object', 'json_schema'];

export function parseResponseFormat(raw: unknown): ResponseFormat | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw) || !RESPONSE_FORMATS.includes(raw.type as string)) {
    bad(`'response_format' must be {"type": "text" | "json_object" | "json_schema"}`, 'response_format');
  }
  if (raw.type !== 'json_schema') return { type: raw.type as 'text' | 'json_object' };
  const spec = raw.json_schema;
  if (
    !isObject(spec) ||
    typeof spec.name !== 'string' ||
    (spec.schema !== undefined && !isObject(spec.schema))
  ) {
    bad(`'response_format.json_schema' must be {"name", "schema": {...}}`, 'response_format');
  }
  return {
    type: 'json_schema',
    json_schema: {
      name: spec.name,
      schema: spec.schema,
      strict: (spec.strict as boolean | undefined) ?? null,
    },
  };
}
