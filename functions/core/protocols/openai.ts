/**
 * The OpenAI API's shapes: chat and text completion requests validated, answer ids and usage, server-sent
 * events, and OpenAI error objects.
 */
import { randomUUID } from 'node:crypto';
import { BadRequestError, describeError } from '../errors.ts';
import { isObject } from '../json.ts';
import {
  bad,
  parseResponseFormat,
  parseToolCalls,
  type ResponseFormat,
  type ToolCall,
} from './chat-parts.ts';

export type { ResponseFormat, TokenLogprob, ToolCall } from './chat-parts.ts';

/** Sampling and stopping options shared by chat and text completions. */
export interface GenerationOptions {
  readonly maxTokens: number | undefined;
  readonly temperature: number | undefined;
  readonly topP: number | undefined;
  readonly stop: string[] | undefined;
  readonly seed: number | undefined;
  readonly presencePenalty: number | undefined;
  readonly frequencyPenalty: number | undefined;
  readonly stream: boolean;
  readonly includeUsage: boolean;
}

export interface ChatMessage {
  readonly role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  /** Null only for an assistant message that calls tools. */
  readonly content: string | null;
  readonly name?: string;
  /** Tool results: the call they answer. */
  readonly tool_call_id?: string;
  /** Assistant messages: the tools it called. */
  readonly tool_calls?: ToolCall[];
}

export interface ChatRequest extends GenerationOptions {
  readonly model: string;
  readonly messages: ChatMessage[];
  /** Passed through to containers that support them. */
  readonly tools: unknown[] | undefined;
  readonly toolChoice: unknown;
  readonly responseFormat: ResponseFormat | undefined;
  /** Log probabilities of the output tokens, and how many alternatives for each (0–20). */
  readonly logprobs: boolean;
  readonly topLogprobs: number | undefined;
  readonly user: string | undefined;
}

export interface CompletionRequest extends GenerationOptions {
  readonly model: string;
  readonly prompt: string;
  readonly echo: boolean;
}

export const ROLES = ['system', 'developer', 'user', 'assistant', 'tool'] as const;

/** Bounds of the numeric generation parameters: the parser checks them, the OpenAPI document states them. */
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

function optionalNumber(
  body: Record<string, unknown>,
  name: keyof typeof GENERATION_LIMITS | 'seed',
  min: number = name === 'seed' ? Number.MIN_SAFE_INTEGER : GENERATION_LIMITS[name][0],
  max: number = name === 'seed' ? Number.MAX_SAFE_INTEGER : GENERATION_LIMITS[name][1],
): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    bad(`'${name}' must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`, name);
  }
  return value;
}

function optionalInteger(
  body: Record<string, unknown>,
  name: keyof typeof GENERATION_LIMITS | 'seed',
): number | undefined {
  const value = optionalNumber(body, name);
  if (value !== undefined && !Number.isInteger(value))
    bad(`'${name}' must be an integer, got ${value}`, name);
  return value;
}

function options(body: Record<string, unknown>, maxTokensDefault: number | undefined): GenerationOptions {
  const stream = body.stream ?? false;
  if (typeof stream !== 'boolean') bad(`'stream' must be true or false`, 'stream');
  const streamOptions = body.stream_options;
  if (streamOptions !== undefined && streamOptions !== null) {
    if (!isObject(streamOptions)) bad(`'stream_options' must be an object`, 'stream_options');
    if (!stream) bad(`'stream_options' is only allowed with 'stream': true`, 'stream_options');
  }
  const n = body.n;
  if (n !== undefined && n !== null && n !== 1)
    bad(`'n' must be 1: one choice per request is supported`, 'n');
  let stop: string[] | undefined;
  if (body.stop !== undefined && body.stop !== null) {
    stop = typeof body.stop === 'string' ? [body.stop] : (body.stop as string[]);
    if (!Array.isArray(stop) || stop.length > MAX_STOP || !stop.every((s) => typeof s === 'string')) {
      bad(`'stop' must be a string or an array of up to ${MAX_STOP} strings`, 'stop');
    }
  }
  const maxTokens =
    optionalInteger(body, 'max_completion_tokens') ?? optionalInteger(body, 'max_tokens') ?? maxTokensDefault;
  return {
    maxTokens,
    temperature: optionalNumber(body, 'temperature'),
    topP: optionalNumber(body, 'top_p'),
    stop,
    seed: optionalInteger(body, 'seed'),
    presencePenalty: optionalNumber(body, 'presence_penalty'),
    frequencyPenalty: optionalNumber(body, 'frequency_penalty'),
    stream,
    includeUsage: isObject(streamOptions) && streamOptions.include_usage === true,
  };
}

function model(body: Record<string, unknown>): string {
  if (typeof body.model !== 'string' || body.model.length === 0) {
    bad(`'model' is required: the name of a model from GET /v1/models`, 'model');
  }
  return body.model;
}

function object(body: unknown, form: string): Record<string, unknown> {
  if (!isObject(body)) throw new BadRequestError(`request body must be a JSON object ${form}`);
  return body;
}

/** Text of a message's content: a string, or an array of `{type: 'text', text}` parts. */
function contentText(content: unknown, i: number): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (Array.isArray(content)) {
    return content
      .map((part, j) => {
        if (!isObject(part) || part.type !== 'text' || typeof part.text !== 'string') {
          bad(
            `messages[${i}].content[${j}] must be {"type": "text", "text": "..."}: only text parts are supported`,
            `messages[${i}].content`,
          );
        }
        return part.text;
      })
      .join('');
  }
  return bad(`messages[${i}].content must be a string or an array of text parts`, `messages[${i}].content`);
}

/**
 * Validates a `POST /v1/chat/completions` body.
 *
 * @throws BadRequestError naming the parameter (`param`) and what was expected.
 */
export function parseChatRequest(raw: unknown): ChatRequest {
  const body = object(raw, '{"model", "messages": [{"role", "content"}, ...]}');
  const name = model(body);
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    bad(`'messages' must be a non-empty array of {"role", "content"}`, 'messages');
  }
  const messages = body.messages.map((m: unknown, i: number): ChatMessage => {
    if (!isObject(m)) bad(`messages[${i}] must be an object {"role", "content"}`, `messages[${i}]`);
    if (!ROLES.includes(m.role as ChatMessage['role'])) {
      bad(
        `messages[${i}].role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(m.role)}`,
        `messages[${i}].role`,
      );
    }
    const toolCalls = m.role === 'assistant' ? parseToolCalls(m.tool_calls, i) : undefined;
    if (m.role === 'tool' && typeof m.tool_call_id !== 'string') {
      bad(
        `messages[${i}] is a tool result: 'tool_call_id' must name the call it answers`,
        `messages[${i}].tool_call_id`,
      );
    }
    return {
      role: m.role as ChatMessage['role'],
      content:
        toolCalls && (m.content === null || m.content === undefined) ? null : contentText(m.content, i),
      ...(typeof m.name === 'string' && { name: m.name }),
      ...(typeof m.tool_call_id === 'string' && { tool_call_id: m.tool_call_id }),
      ...(toolCalls && { tool_calls: toolCalls }),
    };
  });
  if (body.tools !== undefined && body.tools !== null && !Array.isArray(body.tools))
    bad(`'tools' must be an array`, 'tools');
  if (body.user !== undefined && typeof body.user !== 'string') bad(`'user' must be a string`, 'user');
  const logprobs = body.logprobs ?? false;
  if (logprobs !== null && typeof logprobs !== 'boolean') bad(`'logprobs' must be true or false`, 'logprobs');
  const topLogprobs = optionalInteger(body, 'top_logprobs');
  if (topLogprobs !== undefined && logprobs !== true)
    bad(`'top_logprobs' needs 'logprobs': true`, 'top_logprobs');
  return {
    model: name,
    messages,
    ...options(body, undefined),
    tools: (body.tools as unknown[] | undefined) ?? undefined,
    toolChoice: body.tool_choice ?? undefined,
    responseFormat: parseResponseFormat(body.response_format),
    logprobs: logprobs === true,
    topLogprobs,
    user: body.user as string | undefined,
  };
}

/**
 * Validates a `POST /v1/completions` body.
 *
 * @throws BadRequestError naming the parameter (`param`) and what was expected.
 */
export function parseCompletionRequest(raw: unknown): CompletionRequest {
  const body = object(raw, '{"model", "prompt"}');
  const name = model(body);
  let prompt = body.prompt;
  if (Array.isArray(prompt) && prompt.length === 1) prompt = prompt[0];
  if (typeof prompt !== 'string') bad(`'prompt' must be a string (one prompt per request)`, 'prompt');
  if (body.suffix !== undefined && body.suffix !== null) bad(`'suffix' is not supported`, 'suffix');
  if (body.best_of !== undefined && body.best_of !== null && body.best_of !== 1)
    bad(`'best_of' must be 1`, 'best_of');
  if (body.logprobs !== undefined && body.logprobs !== null) bad(`'logprobs' is not supported`, 'logprobs');
  if (body.echo !== undefined && typeof body.echo !== 'boolean') bad(`'echo' must be true or false`, 'echo');
  // OpenAI's default for legacy completions.
  return { model: name, prompt, echo: body.echo === true, ...options(body, 16) };
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function usage(prompt: number, completion: number): Usage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** Identity of one answer: its id and creation time, shared by all chunks of a stream. */
export function answerIdentity(kind: 'chat' | 'text') {
  return {
    id: `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID().replaceAll('-', '')}`,
    created: Math.floor(Date.now() / 1000),
  };
}

/** One server-sent event carrying a JSON object. */
export function sse(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

export const SSE_DONE = 'data: [DONE]\n\n';

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'invalid_request_error',
  405: 'invalid_request_error',
  413: 'invalid_request_error',
  429: 'rate_limit_error',
};

/** The OpenAI error object of any thrown value; server internals stay hidden. */
export function openAIError(error: unknown) {
  const { statusCode, message, headers, param, code, type } = describeError(error);
  return {
    statusCode,
    headers,
    body: {
      error: {
        message,
        type:
          type ?? ERROR_TYPES[statusCode] ?? (statusCode === 503 ? 'service_unavailable_error' : 'api_error'),
        param: param ?? null,
        code: code ?? (statusCode === 404 ? 'model_not_found' : null),
      },
    },
  };
}
