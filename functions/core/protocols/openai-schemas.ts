/**
 * The chat and text completion request bodies as JSON Schema: the chat function refuses a request with them
 * (../json-schema.ts) and the OpenAPI document shows them, so the two cannot disagree.
 */
import type { JsonSchema } from '../json-schema.ts';

export const ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;

/** The `response_format` types a chat request may name. */
export const RESPONSE_FORMATS = ['text', 'json_object', 'json_schema'] as const;

/** Bounds of the numeric generation parameters. */
export const GENERATION_LIMITS = {
  max_tokens: [1, 1_000_000],
  max_completion_tokens: [1, 1_000_000],
  temperature: [0, 2],
  top_p: [0, 1],
  presence_penalty: [-2, 2],
  frequency_penalty: [-2, 2],
  top_logprobs: [0, 20],
} as const satisfies Record<string, readonly [number, number]>;

/** How many stop sequences a request may give. */
export const MAX_STOP = 4;

const str = { type: 'string' } as const;

/** A bounded number; null is taken as absent, as OpenAI's API takes it. */
const limits = (name: keyof typeof GENERATION_LIMITS, integer = false): JsonSchema => ({
  type: [integer ? 'integer' : 'number', 'null'],
  minimum: GENERATION_LIMITS[name][0],
  maximum: GENERATION_LIMITS[name][1],
});

/** "If `condition`, then `consequence`", told in `message` when broken (no `then` key: an object with one is a thenable). */
const implies = (
  condition: JsonSchema,
  consequence: JsonSchema,
  message: string,
  param: string,
): JsonSchema => ({
  anyOf: [{ not: condition }, consequence],
  'x-message': message,
  'x-param': param,
});

/** `stream_options` only with `stream: true`. */
const streamOptionsNeedStream = implies(
  { required: ['stream_options'], properties: { stream_options: { type: 'object' } } },
  { required: ['stream'], properties: { stream: { const: true } } },
  "'stream_options' is only allowed with 'stream': true",
  'stream_options',
);

/** Parameters of both routes; null stands for absent. */
const generation: Record<string, JsonSchema> = {
  model: {
    type: 'string',
    minLength: 1,
    description: 'A model from GET /v1/models.',
    'x-message': "'model' is required: the name of a model from GET /v1/models",
  },
  max_tokens: limits('max_tokens', true),
  temperature: limits('temperature'),
  top_p: limits('top_p'),
  presence_penalty: limits('presence_penalty'),
  frequency_penalty: limits('frequency_penalty'),
  seed: { type: ['integer', 'null'], minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER },
  n: {
    enum: [1, null],
    description: 'One choice per request.',
    'x-message': "'n' must be 1: one choice per request is supported",
  },
  stop: {
    oneOf: [str, { type: 'array', items: str, maxItems: MAX_STOP }, { type: 'null' }],
    description: `A stop sequence or up to ${MAX_STOP}.`,
  },
  stream: { type: ['boolean', 'null'], description: 'Answer as server-sent events, one chunk per token.' },
  stream_options: {
    type: ['object', 'null'],
    properties: { include_usage: { type: ['boolean', 'null'] } },
    description: "Only with 'stream': true.",
  },
};

const TEXT_PART: JsonSchema = {
  type: 'object',
  required: ['type', 'text'],
  properties: { type: { const: 'text' }, text: str },
};

const TOOL_CALL: JsonSchema = {
  type: 'object',
  required: ['id', 'function'],
  properties: {
    id: str,
    type: { const: 'function' },
    function: {
      type: 'object',
      required: ['name', 'arguments'],
      properties: { name: str, arguments: { type: 'string', description: 'The arguments as JSON text.' } },
    },
  },
  'x-message': '{path} must be {"id", "type": "function", "function": {"name", "arguments": "<JSON text>"}}',
};

const MESSAGE: JsonSchema = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { enum: ROLES },
    content: {
      oneOf: [str, { type: 'null' }, { type: 'array', items: TEXT_PART }],
      'x-message': '{path} must be a string or an array of text parts {"type": "text", "text": "..."}',
    },
    // Null stands for absent here too, as the parser before these schemas took it.
    name: { type: ['string', 'null'] },
    tool_call_id: { type: ['string', 'null'], description: 'Tool results: the call they answer.' },
    tool_calls: {
      type: ['array', 'null'],
      items: TOOL_CALL,
      description: 'Assistant messages: the tools called.',
    },
  },
  allOf: [
    implies(
      { required: ['role'], properties: { role: { const: 'tool' } } },
      { required: ['tool_call_id'], properties: { tool_call_id: str } },
      "{path} is a tool result: 'tool_call_id' must name the call it answers",
      '{path}.tool_call_id',
    ),
  ],
  'x-message': '{path} must be an object {"role", "content"}',
};

const RESPONSE_FORMAT: JsonSchema = {
  type: ['object', 'null'],
  required: ['type'],
  properties: {
    type: { enum: RESPONSE_FORMATS },
    json_schema: {
      type: 'object',
      required: ['name'],
      properties: { name: str, schema: { type: 'object' }, strict: { type: ['boolean', 'null'] } },
    },
  },
  allOf: [
    implies(
      { required: ['type'], properties: { type: { const: 'json_schema' } } },
      { required: ['json_schema'] },
      `'response_format.json_schema' must be {"name", "schema": {...}}`,
      'response_format',
    ),
  ],
  'x-message': `'response_format' must be {"type": "text" | "json_object" | "json_schema"}`,
};

/** `POST /v1/chat/completions`. */
export const CHAT_REQUEST: JsonSchema = {
  type: 'object',
  required: ['model', 'messages'],
  properties: {
    ...generation,
    max_completion_tokens: limits('max_completion_tokens', true),
    messages: {
      type: 'array',
      minItems: 1,
      items: MESSAGE,
      'x-message': `'messages' must be a non-empty array of {"role", "content"}`,
    },
    tools: { type: ['array', 'null'], items: { type: 'object' } },
    tool_choice: {},
    response_format: RESPONSE_FORMAT,
    logprobs: { type: ['boolean', 'null'] },
    top_logprobs: { ...limits('top_logprobs', true), description: "Only with 'logprobs': true." },
    user: str,
  },
  allOf: [
    streamOptionsNeedStream,
    implies(
      { required: ['top_logprobs'], properties: { top_logprobs: { type: 'integer' } } },
      { required: ['logprobs'], properties: { logprobs: { const: true } } },
      "'top_logprobs' needs 'logprobs': true",
      'top_logprobs',
    ),
  ],
  'x-message': 'request body must be a JSON object {"model", "messages": [{"role", "content"}, ...]}',
};

/** `POST /v1/completions`. */
export const COMPLETION_REQUEST: JsonSchema = {
  type: 'object',
  required: ['model', 'prompt'],
  properties: {
    ...generation,
    prompt: {
      oneOf: [str, { type: 'array', items: str, minItems: 1, maxItems: 1 }],
      'x-message': "'prompt' must be a string (one prompt per request)",
    },
    echo: { type: 'boolean' },
    suffix: { type: 'null', description: 'Not supported.', 'x-message': "'suffix' is not supported" },
    best_of: {
      enum: [1, null],
      description: 'One completion per request.',
      'x-message': "'best_of' must be 1",
    },
    logprobs: {
      type: 'null',
      description: 'Not supported on this route.',
      'x-message': "'logprobs' is not supported",
    },
  },
  allOf: [streamOptionsNeedStream],
  'x-message': 'request body must be a JSON object {"model", "prompt"}',
};
