/**
 * Parts of a container's answer read the same way for every protocol: finish
 * reasons (TGI's and LMI's words included), tool calls (TGI's without content,
 * arguments as an object) and log probabilities (TGI's without bytes, LMI's in
 * a one-element list), each turned into OpenAI's shape.
 */
import { randomUUID } from 'node:crypto';
import { UpstreamError } from '../../errors.ts';
import { isObject } from '../../json.ts';
import type { FinishReason, TokenLogprob, ToolCall } from '../openai.ts';

type Json = Record<string, unknown>;

/**
 * OpenAI's finish reason for a container's: `eos_token`, `stop_sequence` and
 * `stop` are a stop; `error` (LMI's failed sequence) and `abort` are failures.
 * @throws UpstreamError for a failed or aborted generation.
 */
export function finishReason(raw: unknown, where = 'the model server'): FinishReason {
  if (raw === 'error' || raw === 'abort') {
    throw new UpstreamError(
      `${where} ${raw === 'error' ? 'failed during' : 'aborted'} the generation (finish_reason "${raw}")`,
    );
  }
  if (raw === 'length') return 'length';
  if (raw === 'tool_calls' || raw === 'content_filter') return raw;
  return 'stop';
}

/** Text with a trailing stop sequence removed: OpenAI answers exclude it, TGI's include it. */
export function withoutStop(text: string, stop: readonly string[] | undefined): string {
  const hit = stop?.find((s) => s.length > 0 && text.endsWith(s));
  return hit ? text.slice(0, -hit.length) : text;
}

const callId = (id: unknown) =>
  typeof id === 'string' && id.length > 0 ? id : `call_${randomUUID().replaceAll('-', '')}`;
const argumentsText = (args: unknown) => (typeof args === 'string' ? args : JSON.stringify(args ?? {}));

/** Tool calls of a whole answer, in OpenAI's shape (`arguments` as JSON text, an id on each). */
export function toolCalls(raw: unknown): ToolCall[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) return undefined;
  return raw.map((call) => {
    const fn = isObject(call) && isObject(call.function) ? call.function : {};
    if (typeof fn.name !== 'string')
      throw new UpstreamError('the model server answered a tool call without a function name');
    return {
      id: callId(isObject(call) ? call.id : undefined),
      type: 'function' as const,
      function: { name: fn.name, arguments: argumentsText(fn.arguments) },
    };
  });
}

/**
 * Tool-call deltas of a stream in OpenAI's shape: the first delta of a call
 * carries its id, type and name; later ones only argument text. TGI repeats
 * type and an empty id on every delta, and its name arrives once.
 */
export class ToolCallDeltas {
  private readonly seen = new Set<number>();

  get called(): boolean {
    return this.seen.size > 0;
  }

  next(raw: unknown[]): Json[] {
    return raw.filter(isObject).map((call, position) => {
      const index = typeof call.index === 'number' ? call.index : position;
      const fn = isObject(call.function) ? call.function : {};
      const args = fn.arguments === undefined || fn.arguments === null ? '' : argumentsText(fn.arguments);
      if (this.seen.has(index)) return { index, function: { arguments: args } };
      this.seen.add(index);
      return {
        index,
        id: callId(call.id),
        type: 'function',
        function: { name: typeof fn.name === 'string' ? fn.name : '', arguments: args },
      };
    });
  }
}

function bytesOf(text: string): number[] {
  return [...new TextEncoder().encode(text)];
}

/** A container's log probabilities as OpenAI's `{"content": [...], "refusal": null}`, or null when it sent none. */
export function logprobsOf(raw: unknown): { content: TokenLogprob[]; refusal: null } | null {
  const lp = Array.isArray(raw) ? raw[0] : raw;
  if (!isObject(lp) || !Array.isArray(lp.content)) return null;
  return {
    content: lp.content.filter(isObject).map((entry) => {
      const token = typeof entry.token === 'string' ? entry.token : '';
      const top = Array.isArray(entry.top_logprobs) ? entry.top_logprobs.filter(isObject) : [];
      return {
        token,
        logprob: Number(entry.logprob ?? 0),
        bytes: Array.isArray(entry.bytes) ? (entry.bytes as number[]) : bytesOf(token),
        top_logprobs: top.map((alt) => {
          // LMI's streamed alternatives put the log-probability where the token belongs.
          const text = typeof alt.token === 'string' ? alt.token : token;
          return { token: text, logprob: Number(alt.logprob ?? 0), bytes: bytesOf(text) };
        }),
      };
    }),
    refusal: null,
  };
}
