/**
 * OpenAI answers from a container's: whole answers and streams of chunks for
 * chat and text completions, with finish reasons, tool calls, log
 * probabilities and usage read from whichever part of the answer carries them.
 */
import { UpstreamError } from '../errors.ts';
import { finishReason, logprobsOf, ToolCallDeltas, toolCalls, withoutStop } from './answer-parts.ts';
import { type ContainerProtocol, containerChatBody, containerCompletionBody } from './container-request.ts';
import {
  answerIdentity,
  type ChatRequest,
  type CompletionRequest,
  type FinishReason,
  type GenerationOptions,
  parseChatRequest,
  parseCompletionRequest,
  type TokenLogprob,
  type Usage,
  usage,
} from './openai.ts';
import { StopFilter } from './stop-filter.ts';
import { isObject } from './v2.ts';

export { finishReason } from './answer-parts.ts';
export type { ContainerProtocol } from './container-request.ts';
export { containerChatBody, containerCompletionBody } from './container-request.ts';
export { lines, streamEvents } from './container-stream.ts';

type Json = Record<string, unknown>;

/** Our chat.completion from a container's (TGI, LMI or OpenAI server). */
export function chatAnswer(request: ChatRequest, raw: unknown, where = 'the model server') {
  const choice = isObject(raw) && Array.isArray(raw.choices) ? raw.choices[0] : undefined;
  const message = isObject(choice) && isObject(choice.message) ? choice.message : undefined;
  const calls = toolCalls(message?.tool_calls);
  if (!message || (!calls && typeof message.content !== 'string' && message.content !== null)) {
    throw new UpstreamError(`${where} answered without choices[0].message`);
  }
  const finish = finishReason((choice as Json).finish_reason, where);
  const reported = isObject(raw) && isObject(raw.usage) ? (raw.usage as Partial<Usage>) : {};
  const content = typeof message.content === 'string' ? withoutStop(message.content, request.stop) : null;
  return {
    ...answerIdentity('chat'),
    object: 'chat.completion' as const,
    model: request.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant' as const,
          content: calls && content === '' ? null : content,
          refusal: null,
          ...(calls && { tool_calls: calls }),
        },
        logprobs: request.logprobs ? logprobsOf((choice as Json).logprobs) : null,
        // TGI answers a tool call with the stop reason of its grammar.
        finish_reason: calls ? ('tool_calls' as const) : finish,
      },
    ],
    usage: usage(reported.prompt_tokens ?? 0, reported.completion_tokens ?? 0),
  };
}

/** Text, finish reason and token counts of a generate answer: TGI's array, LMI's object, or OpenAI's completion. */
export function generated(raw: unknown, request: CompletionRequest, where = 'the model server') {
  const first = Array.isArray(raw) ? raw[0] : raw;
  if (isObject(first) && Array.isArray(first.choices)) {
    const choice = first.choices[0] as Json | undefined;
    const reported = (first.usage ?? {}) as Partial<Usage>;
    if (typeof choice?.text !== 'string')
      throw new UpstreamError(`${where} answered without choices[0].text`);
    return {
      text: withoutStop(choice.text, request.stop),
      finish: finishReason(choice.finish_reason, where),
      promptTokens: reported.prompt_tokens ?? 0,
      completionTokens: reported.completion_tokens ?? 0,
    };
  }
  if (!isObject(first) || typeof first.generated_text !== 'string') {
    throw new UpstreamError(`${where} answered without generated_text`);
  }
  const details = isObject(first.details) ? first.details : {};
  return {
    text: withoutStop(first.generated_text, request.stop),
    finish: finishReason(details.finish_reason ?? 'length', where),
    // TGI lists the prompt's tokens (decoder_input_details); LMI's answer has no count of them.
    promptTokens: Array.isArray(details.prefill) ? details.prefill.length : 0,
    completionTokens: typeof details.generated_tokens === 'number' ? details.generated_tokens : 0,
  };
}

/** Our text_completion from a generate answer. */
export function completionAnswer(request: CompletionRequest, raw: unknown, where = 'the model server') {
  const g = generated(raw, request, where);
  return {
    ...answerIdentity('text'),
    object: 'text_completion' as const,
    model: request.model,
    choices: [
      {
        text: request.echo ? request.prompt + g.text : g.text,
        index: 0,
        logprobs: null,
        finish_reason: g.finish,
      },
    ],
    usage: usage(g.promptTokens, g.completionTokens),
  };
}

/** Chunks a streamed answer yields: OpenAI chunk objects, ready to send as SSE. */
export type StreamChunk = Json;

/**
 * Our chat.completion.chunk stream from a container's chunk stream. Content
 * after the first finish reason is kept (LMI stamps it on every chunk of the
 * final step); usage is the container's where it sends one, else counted.
 */
export async function* chatChunks(
  request: ChatRequest,
  events: AsyncIterable<Json>,
  where = 'the model server',
): AsyncGenerator<StreamChunk> {
  const identity = answerIdentity('chat');
  const base = { ...identity, object: 'chat.completion.chunk', model: request.model };
  const filter = new StopFilter(request.stop ?? []);
  const calls = new ToolCallDeltas();
  let sentRole = false;
  let stopped = false;
  let raw: unknown;
  let reported: Partial<Usage> | undefined;
  let completionTokens = 0;
  let pending: TokenLogprob[] = [];
  const chunk = (delta: Json, finish: FinishReason | null) => {
    const d = sentRole ? delta : { role: 'assistant', ...delta };
    sentRole = true;
    const logprobs = request.logprobs && pending.length > 0 ? { content: pending, refusal: null } : null;
    pending = [];
    return { ...base, choices: [{ index: 0, delta: d, logprobs, finish_reason: finish }] };
  };
  for await (const event of events) {
    if (isObject(event.usage)) reported = event.usage as Partial<Usage>;
    const choice = Array.isArray(event.choices) ? (event.choices[0] as Json | undefined) : undefined;
    if (!choice) continue;
    if (choice.finish_reason) {
      finishReason(choice.finish_reason, where);
      raw = choice.finish_reason;
    }
    const d = isObject(choice.delta) ? choice.delta : {};
    if (stopped) continue;
    if (typeof d.content === 'string' || Array.isArray(d.tool_calls)) completionTokens++;
    if (request.logprobs) pending.push(...(logprobsOf(choice.logprobs)?.content ?? []));
    if (typeof d.content === 'string' && d.content.length > 0) {
      const { text, stopped: hit } = filter.push(d.content);
      if (text.length > 0) yield chunk({ content: text }, null);
      stopped = hit;
    }
    if (Array.isArray(d.tool_calls)) yield chunk({ tool_calls: calls.next(d.tool_calls) }, null);
  }
  if (raw === undefined && !stopped)
    throw new UpstreamError(`${where} ended the stream without a finish reason`);
  const finished: FinishReason = calls.called ? 'tool_calls' : stopped ? 'stop' : finishReason(raw, where);
  const rest = stopped ? '' : filter.flush();
  if (rest.length > 0) yield chunk({ content: rest }, null);
  yield chunk(sentRole ? {} : { content: '' }, finished);
  if (request.includeUsage) {
    yield {
      ...base,
      choices: [],
      usage: usage(reported?.prompt_tokens ?? 0, reported?.completion_tokens ?? completionTokens),
    };
  }
}

/**
 * Our text_completion stream from a container's token stream: TGI/LMI token
 * events (the end-of-sequence token is special and has no text, but carries
 * the details), or OpenAI chunks.
 */
export async function* completionChunks(
  request: CompletionRequest,
  events: AsyncIterable<Json>,
  where = 'the model server',
): AsyncGenerator<StreamChunk> {
  const identity = answerIdentity('text');
  const base = { ...identity, object: 'text_completion', model: request.model };
  const filter = new StopFilter(request.stop ?? []);
  const chunk = (text: string, finish: FinishReason | null) => ({
    ...base,
    choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
  });
  let raw: unknown;
  let stopped = false;
  let tokens = 0;
  let promptTokens = 0;
  let completionTokens: number | undefined;
  if (request.echo) yield chunk(request.prompt, null);
  for await (const event of events) {
    let text: string | undefined;
    let finish: unknown;
    if (Array.isArray(event.choices)) {
      const choice = event.choices[0] as Json | undefined;
      text = typeof choice?.text === 'string' ? choice.text : undefined;
      finish = choice?.finish_reason;
      if (isObject(event.usage)) {
        promptTokens = Number(event.usage.prompt_tokens ?? 0);
        completionTokens = Number(event.usage.completion_tokens ?? 0);
      }
    } else {
      const token = isObject(event.token) ? event.token : undefined;
      if (token) tokens++;
      text = token?.special === true ? undefined : typeof token?.text === 'string' ? token.text : undefined;
      const details = isObject(event.details) ? event.details : undefined;
      finish = details?.finish_reason;
      if (typeof details?.input_length === 'number') promptTokens = details.input_length;
      if (typeof details?.generated_tokens === 'number') completionTokens = details.generated_tokens;
    }
    if (finish) {
      finishReason(finish, where);
      raw = finish;
    }
    if (stopped || text === undefined || text.length === 0) continue;
    if (Array.isArray(event.choices)) tokens++;
    const out = filter.push(text);
    if (out.text.length > 0) yield chunk(out.text, null);
    stopped = out.stopped;
  }
  if (raw === undefined && !stopped)
    throw new UpstreamError(`${where} ended the stream without a finish reason`);
  const finished = stopped ? 'stop' : finishReason(raw, where);
  yield chunk(stopped ? '' : filter.flush(), finished);
  if (request.includeUsage)
    yield { ...base, choices: [], usage: usage(promptTokens, completionTokens ?? tokens) };
}

export type { GenerationOptions };

/** The OpenAI routes a language model answers. */
export const GENERATION_ROUTES = ['/v1/chat/completions', '/v1/completions'] as const;
export type GenerationRoute = (typeof GENERATION_ROUTES)[number];

/** A validated OpenAI request: a chat completion or a text completion. */
export type Generation =
  | { readonly kind: 'chat'; readonly request: ChatRequest }
  | { readonly kind: 'text'; readonly request: CompletionRequest };

/** Parses the body of an OpenAI route. @throws BadRequestError naming the parameter. */
export function parseGeneration(route: GenerationRoute, body: unknown): Generation {
  return route === '/v1/chat/completions'
    ? { kind: 'chat', request: parseChatRequest(body) }
    : { kind: 'text', request: parseCompletionRequest(body) };
}

/** What the container is sent for a request. */
export function containerBody(generation: Generation, protocol: ContainerProtocol): Json {
  return generation.kind === 'chat'
    ? containerChatBody(generation.request, protocol)
    : containerCompletionBody(generation.request, protocol);
}

/** Our answer, from the container's whole answer. */
export function wholeAnswer(generation: Generation, raw: unknown, where?: string) {
  return generation.kind === 'chat'
    ? chatAnswer(generation.request, raw, where)
    : completionAnswer(generation.request, raw, where);
}

/** Our stream of chunks, from the container's stream of events. */
export function streamedAnswer(
  generation: Generation,
  events: AsyncIterable<Json>,
  where?: string,
): AsyncGenerator<StreamChunk> {
  return generation.kind === 'chat'
    ? chatChunks(generation.request, events, where)
    : completionChunks(generation.request, events, where);
}
