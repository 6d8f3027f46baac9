/**
 * The OpenAI API's shapes: chat and text completion requests validated, answer ids and usage, server-sent
 * events, and OpenAI error objects.
 */
import { randomUUID } from 'node:crypto';
import { BadRequestError, describeError } from '../errors.ts';
import { isObject } from '../json.ts';
import { type JsonSchema, schemaProblem } from '../json-schema.ts';
import { type ResponseFormat, responseFormatOf, type ToolCall, toolCallsOf } from './chat-parts.ts';
import { CHAT_REQUEST, COMPLETION_REQUEST } from './openai-schemas.ts';

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

/** Refuses `body` with the first thing `schema` finds wrong, naming the parameter. */
function check(body: unknown, schema: JsonSchema): asserts body is Record<string, unknown> {
  const problem = schemaProblem(body, schema);
  if (!problem) return;
  const { message, param } = problem;
  // A parameter's problem is OpenAI's `invalid_value` naming it; the body's own has no parameter.
  throw new BadRequestError(message, param === '' ? {} : { param, code: 'invalid_value' });
}

/**
 * Sampling and stopping options of a body its schema has checked; the token limit is the first of
 * `tokenParams` given, so only parameters the route's schema checks are read.
 */
function options(
  body: Record<string, unknown>,
  tokenParams: readonly string[],
  maxTokensDefault: number | undefined,
): GenerationOptions {
  const stream = body.stream === true;
  const number = (name: string) => (body[name] ?? undefined) as number | undefined;
  const stop = body.stop ?? undefined;
  const streamOptions = body.stream_options;
  return {
    maxTokens: tokenParams.map(number).find((n) => n !== undefined) ?? maxTokensDefault,
    temperature: number('temperature'),
    topP: number('top_p'),
    stop: typeof stop === 'string' ? [stop] : (stop as string[] | undefined),
    seed: number('seed'),
    presencePenalty: number('presence_penalty'),
    frequencyPenalty: number('frequency_penalty'),
    stream,
    includeUsage: isObject(streamOptions) && streamOptions.include_usage === true,
  };
}

/** Text of a checked message content: a string, or the text of its parts. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part: { text: string }) => part.text).join('');
  return '';
}

/**
 * Validates a `POST /v1/chat/completions` body.
 *
 * @throws BadRequestError naming the parameter (`param`) and what was expected.
 */
export function parseChatRequest(body: unknown): ChatRequest {
  check(body, CHAT_REQUEST);
  const messages = (body.messages as Record<string, unknown>[]).map((m): ChatMessage => {
    const toolCalls = m.role === 'assistant' ? toolCallsOf(m.tool_calls) : undefined;
    return {
      role: m.role as ChatMessage['role'],
      content: toolCalls && (m.content === null || m.content === undefined) ? null : contentText(m.content),
      ...(typeof m.name === 'string' && { name: m.name }),
      ...(typeof m.tool_call_id === 'string' && { tool_call_id: m.tool_call_id }),
      ...(toolCalls && { tool_calls: toolCalls }),
    };
  });
  return {
    model: body.model as string,
    messages,
    ...options(body, ['max_completion_tokens', 'max_tokens'], undefined),
    tools: (body.tools as unknown[] | null | undefined) ?? undefined,
    toolChoice: body.tool_choice ?? undefined,
    responseFormat: responseFormatOf(body.response_format),
    logprobs: body.logprobs === true,
    topLogprobs: (body.top_logprobs ?? undefined) as number | undefined,
    user: body.user as string | undefined,
  };
}

/**
 * Validates a `POST /v1/completions` body.
 *
 * @throws BadRequestError naming the parameter (`param`) and what was expected.
 */
export function parseCompletionRequest(body: unknown): CompletionRequest {
  check(body, COMPLETION_REQUEST);
  const prompt = Array.isArray(body.prompt) ? (body.prompt[0] as string) : (body.prompt as string);
  // OpenAI's default for legacy completions.
  return {
    model: body.model as string,
    prompt,
    echo: body.echo === true,
    ...options(body, ['max_tokens'], 16),
  };
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
