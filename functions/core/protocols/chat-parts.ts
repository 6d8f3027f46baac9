/**
 * The parts of an OpenAI chat request beyond text: assistant tool calls,
 * `response_format`, and the log-probability shape answers carry.
 */
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

/** An assistant message's `tool_calls`, as its schema has checked them: each `{id, function: {name, arguments}}`. */
export function toolCallsOf(raw: unknown): ToolCall[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  return (raw as Array<{ id: string; function: { name: string; arguments: string } }>).map((call) => ({
    id: call.id,
    type: 'function' as const,
    function: { name: call.function.name, arguments: call.function.arguments },
  }));
}

/** A `response_format` its schema has checked. */
export function responseFormatOf(raw: unknown): ResponseFormat | undefined {
  if (raw === undefined || raw === null) return undefined;
  const format = raw as { type: ResponseFormat['type']; json_schema?: Record<string, unknown> };
  if (format.type !== 'json_schema') return { type: format.type };
  const spec = format.json_schema as { name: string; schema?: unknown; strict?: boolean | null };
  return {
    type: 'json_schema',
    json_schema: { name: spec.name, schema: spec.schema, strict: spec.strict ?? null },
  };
}
