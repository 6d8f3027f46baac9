import { UpstreamError } from '../errors.ts';
import {
  answerIdentity,
  type ChatRequest,
  type CompletionRequest,
  type FinishReason,
  type GenerationOptions,
  parseChatRequest,
  parseCompletionRequest,
  type Usage,
  usage,
} from './openai.ts';
import { isObject } from './v2.ts';

/**
 * What a large model's container speaks at `/invocations`: `tgi` (Hugging Face
 * TGI: generate answers an array, streams SSE), `lmi` (AWS LMI/DJL: generate
 * answers an object, streams JSON Lines), `openai` (OpenAI shapes natively),
 * `v2` (Open Inference Protocol tensors, e.g. Triton).
 */
export type ContainerProtocol = 'openai' | 'tgi' | 'lmi' | 'v2';

type Json = Record<string, unknown>;

/** Lines of a byte stream whose chunk boundaries fall anywhere, even inside a UTF-8 character. */
export async function* lines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of chunks) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n');
    while (end >= 0) {
      yield buffer.slice(0, end).replace(/\r$/, '');
      buffer = buffer.slice(end + 1);
      end = buffer.indexOf('\n');
    }
  }
  buffer += decoder.decode();
  if (buffer.length > 0) yield buffer.replace(/\r$/, '');
}

/**
 * JSON events of a container's stream, by its content type: server-sent
 * events (`data:` lines; comments and other fields skipped) or JSON Lines
 * (a bare `data:` prefix tolerated). `[DONE]` ends the stream.
 */
export async function* streamEvents(
  chunks: AsyncIterable<Uint8Array>,
  contentType: string | undefined,
): AsyncGenerator<Json> {
  const sseStream = (contentType ?? '').includes('text/event-stream');
  for await (const raw of lines(chunks)) {
    const line = raw.trim();
    if (line === '' || line.startsWith(':')) continue;
    let data: string;
    if (line.startsWith('data:')) data = line.slice(5).trim();
    else if (sseStream)
      continue; // event:, id:, retry: fields
    else data = line;
    if (data === '[DONE]') return;
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch {
      throw new UpstreamError(`the model server streamed a line that is not JSON: ${data.slice(0, 200)}`);
    }
    if (isObject(event)) {
      if ('error' in event && !('choices' in event) && !('token' in event)) {
        throw new UpstreamError(`the model server failed mid-stream: ${String((event as Json).error)}`);
      }
      yield event;
    }
  }
}

function defined(entries: Json): Json {
  return Object.fromEntries(Object.entries(entries).filter(([, v]) => v !== undefined));
}

/** The container request of a chat completion: the Messages API that TGI, LMI and OpenAI servers share. */
export function containerChatBody(request: ChatRequest): Json {
  return defined({
    model: request.model,
    messages: request.messages,
    max_tokens: request.maxTokens,
    temperature: request.temperature,
    top_p: request.topP,
    stop: request.stop,
    seed: request.seed,
    presence_penalty: request.presencePenalty,
    frequency_penalty: request.frequencyPenalty,
    tools: request.tools,
    response_format: request.responseFormat,
    stream: request.stream,
    stream_options: request.stream && request.includeUsage ? { include_usage: true } : undefined,
  });
}

/** The container request of a text completion: TGI/LMI's generate API, or OpenAI's own shape. */
export function containerCompletionBody(request: CompletionRequest, protocol: ContainerProtocol): Json {
  if (protocol === 'openai') {
    return defined({
      model: request.model,
      prompt: request.prompt,
      max_tokens: request.maxTokens,
      temperature: request.temperature,
      top_p: request.topP,
      stop: request.stop,
      seed: request.seed,
      stream: request.stream,
      stream_options: request.stream && request.includeUsage ? { include_usage: true } : undefined,
    });
  }
  return defined({
    inputs: request.prompt,
    parameters: defined({
      max_new_tokens: request.maxTokens,
      temperature: request.temperature === 0 ? undefined : request.temperature,
      top_p: request.topP === undefined || request.topP >= 1 ? undefined : request.topP,
      do_sample: request.temperature === undefined ? undefined : request.temperature > 0,
      stop: request.stop,
      seed: request.seed,
      details: true,
      ...(request.stream ? {} : { decoder_input_details: true }),
    }),
    stream: request.stream,
  });
}

export function finishReason(raw: unknown): FinishReason {
  if (raw === 'length') return 'length';
  if (raw === 'tool_calls' || raw === 'content_filter') return raw;
  return 'stop';
}

/** Text with a trailing stop sequence removed: OpenAI answers exclude it, TGI's include it. */
function withoutStop(text: string, stop: readonly string[] | undefined): string {
  const hit = stop?.find((s) => s.length > 0 && text.endsWith(s));
  return hit ? text.slice(0, -hit.length) : text;
}

/** Our chat.completion from a container's. */
export function chatAnswer(request: ChatRequest, raw: unknown) {
  const choice = isObject(raw) && Array.isArray(raw.choices) ? raw.choices[0] : undefined;
  const message = isObject(choice) && isObject(choice.message) ? choice.message : undefined;
  if (!message || (typeof message.content !== 'string' && message.content !== null)) {
    throw new UpstreamError('the model server answered without choices[0].message');
  }
  const reported = isObject(raw) && isObject(raw.usage) ? (raw.usage as Partial<Usage>) : {};
  return {
    ...answerIdentity('chat'),
    object: 'chat.completion' as const,
    model: request.model,
    choices: [
      {
        index: 0,
        message: defined({
          role: 'assistant',
          content: typeof message.content === 'string' ? withoutStop(message.content, request.stop) : null,
          tool_calls: message.tool_calls,
        }),
        logprobs: null,
        finish_reason: finishReason((choice as Json).finish_reason),
      },
    ],
    usage: usage(reported.prompt_tokens ?? 0, reported.completion_tokens ?? 0),
  };
}

/** Text, finish reason and token counts of a generate answer: TGI's array, LMI's object, or OpenAI's completion. */
export function generated(raw: unknown, request: CompletionRequest) {
  const first = Array.isArray(raw) ? raw[0] : raw;
  if (isObject(first) && Array.isArray(first.choices)) {
    const choice = first.choices[0] as Json | undefined;
    const reported = (first.usage ?? {}) as Partial<Usage>;
    if (typeof choice?.text !== 'string')
      throw new UpstreamError('the model server answered without choices[0].text');
    return {
      text: choice.text,
      finish: finishReason(choice.finish_reason),
      promptTokens: reported.prompt_tokens ?? 0,
      completionTokens: reported.completion_tokens ?? 0,
    };
  }
  if (!isObject(first) || typeof first.generated_text !== 'string') {
    throw new UpstreamError('the model server answered without generated_text');
  }
  const details = isObject(first.details) ? first.details : {};
  return {
    text: withoutStop(first.generated_text, request.stop),
    finish: finishReason(details.finish_reason ?? 'length'),
    promptTokens: Array.isArray(details.prefill) ? details.prefill.length : 0,
    completionTokens: typeof details.generated_tokens === 'number' ? details.generated_tokens : 0,
  };
}

/** Our text_completion from a generate answer. */
export function completionAnswer(request: CompletionRequest, raw: unknown) {
  const g = generated(raw, request);
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

/**
 * Holds back the end of streamed text that may still become a stop sequence,
 * so a stop sequence never reaches the client, whatever the token boundaries.
 */
class StopFilter {
  private pending = '';
  constructor(private readonly stop: readonly string[]) {}

  /** Text safe to send now; `stopped` once a stop sequence completed. */
  push(text: string): { text: string; stopped: boolean } {
    this.pending += text;
    for (const s of this.stop) {
      const at = s.length > 0 ? this.pending.indexOf(s) : -1;
      if (at >= 0) {
        const out = this.pending.slice(0, at);
        this.pending = '';
        return { text: out, stopped: true };
      }
    }
    let hold = 0;
    for (const s of this.stop) {
      for (let k = Math.min(s.length - 1, this.pending.length); k > hold; k--) {
        if (this.pending.endsWith(s.slice(0, k))) {
          hold = k;
          break;
        }
      }
    }
    const out = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return { text: out, stopped: false };
  }

  flush(): string {
    const out = this.pending;
    this.pending = '';
    return out;
  }
}

/** Chunks a streamed answer yields: OpenAI chunk objects, ready to send as SSE. */
export type StreamChunk = Json;

/** Our chat.completion.chunk stream from a container's chunk stream. */
export async function* chatChunks(
  request: ChatRequest,
  events: AsyncIterable<Json>,
): AsyncGenerator<StreamChunk> {
  const identity = answerIdentity('chat');
  const base = { ...identity, object: 'chat.completion.chunk', model: request.model };
  const filter = new StopFilter(request.stop ?? []);
  let sentRole = false;
  let finished: FinishReason | undefined;
  let reported: Partial<Usage> | undefined;
  let completionTokens = 0;
  const delta = (content: string) => {
    const d: Json = sentRole ? { content } : { role: 'assistant', content };
    sentRole = true;
    return { ...base, choices: [{ index: 0, delta: d, logprobs: null, finish_reason: null }] };
  };
  for await (const event of events) {
    if (isObject(event.usage)) reported = event.usage as Partial<Usage>;
    const choice = Array.isArray(event.choices) ? (event.choices[0] as Json | undefined) : undefined;
    if (!choice || finished) continue;
    const d = isObject(choice.delta) ? choice.delta : {};
    if (typeof d.content === 'string' && d.content.length > 0) {
      completionTokens++;
      const { text, stopped } = filter.push(d.content);
      if (text.length > 0) yield delta(text);
      if (stopped) finished = 'stop';
    }
    if (Array.isArray(d.tool_calls)) {
      yield {
        ...base,
        choices: [
          {
            index: 0,
            delta: { ...(sentRole ? {} : { role: 'assistant' }), tool_calls: d.tool_calls },
            logprobs: null,
            finish_reason: null,
          },
        ],
      };
      sentRole = true;
    }
    if (choice.finish_reason) finished = finishReason(choice.finish_reason);
  }
  if (!finished) throw new UpstreamError('the model server ended the stream without a finish reason');
  const rest = finished === 'stop' ? '' : filter.flush();
  if (rest.length > 0) yield delta(rest);
  yield {
    ...base,
    choices: [
      {
        index: 0,
        delta: sentRole ? {} : { role: 'assistant', content: '' },
        logprobs: null,
        finish_reason: finished,
      },
    ],
  };
  if (request.includeUsage) {
    yield {
      ...base,
      choices: [],
      usage: usage(reported?.prompt_tokens ?? 0, reported?.completion_tokens ?? completionTokens),
    };
  }
}

/** Our text_completion stream from a container's token stream (TGI/LMI events, or OpenAI chunks). */
export async function* completionChunks(
  request: CompletionRequest,
  events: AsyncIterable<Json>,
): AsyncGenerator<StreamChunk> {
  const identity = answerIdentity('text');
  const base = { ...identity, object: 'text_completion', model: request.model };
  const filter = new StopFilter(request.stop ?? []);
  const chunk = (text: string, finish: FinishReason | null) => ({
    ...base,
    choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
  });
  let finished: FinishReason | undefined;
  let tokens = 0;
  let promptTokens = 0;
  if (request.echo) yield chunk(request.prompt, null);
  for await (const event of events) {
    if (finished) continue;
    let text: string | undefined;
    let finish: unknown;
    if (Array.isArray(event.choices)) {
      const choice = event.choices[0] as Json | undefined;
      text = typeof choice?.text === 'string' ? choice.text : undefined;
      finish = choice?.finish_reason;
      if (isObject(event.usage)) promptTokens = Number((event.usage as Json).prompt_tokens ?? 0);
    } else {
      const token = isObject(event.token) ? event.token : undefined;
      if (token?.special === true) continue;
      text = typeof token?.text === 'string' ? token.text : undefined;
      finish = isObject(event.details) ? event.details.finish_reason : undefined;
    }
    if (text !== undefined && text.length > 0) {
      tokens++;
      const out = filter.push(text);
      if (out.text.length > 0) yield chunk(out.text, null);
      if (out.stopped) finished = 'stop';
    }
    if (finish) finished ??= finishReason(finish);
  }
  finished ??= 'length';
  const rest = finished === 'stop' ? '' : filter.flush();
  yield chunk(rest, finished);
  if (request.includeUsage) yield { ...base, choices: [], usage: usage(promptTokens, tokens) };
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
    ? containerChatBody(generation.request)
    : containerCompletionBody(generation.request, protocol);
}

/** Our answer, from the container's whole answer. */
export function wholeAnswer(generation: Generation, raw: unknown) {
  return generation.kind === 'chat'
    ? chatAnswer(generation.request, raw)
    : completionAnswer(generation.request, raw);
}

/** Our stream of chunks, from the container's stream of events. */
export function streamedAnswer(
  generation: Generation,
  events: AsyncIterable<Json>,
): AsyncGenerator<StreamChunk> {
  return generation.kind === 'chat'
    ? chatChunks(generation.request, events)
    : completionChunks(generation.request, events);
}
