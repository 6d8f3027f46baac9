/** OpenAI chunk streams (chat.completion.chunk, text_completion) from a container's stream of events. */
import { UpstreamError } from '../../errors.ts';
import { isObject } from '../../json.ts';
import {
  answerIdentity,
  type ChatRequest,
  type CompletionRequest,
  type FinishReason,
  type TokenLogprob,
  type Usage,
  usage,
} from '../openai.ts';
import { finishReason, logprobsOf, ToolCallDeltas } from './parts.ts';
import { StopFilter } from './stop-filter.ts';

type Json = Record<string, unknown>;

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
