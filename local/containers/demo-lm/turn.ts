/**
 * One generation as every demo container mode runs it: the tokens of a chat
 * plan (sampled text, or the fixed text of a tool call or a JSON answer), each
 * marked with the finish reason when it is the last, grouped into decoding steps.
 */
import type { ServerResponse } from 'node:http';
import {
  type DemoLanguageModel,
  EOS_TOKEN_TEXT,
  type FinishReason,
  type GeneratedToken,
  type SamplingOptions,
} from './model.ts';
import { type ChatPlan, type Limits, pieces } from './options.ts';
import type { RollingBatch } from './rolling-batch.ts';

/** What a mode's handler gets: the model, the served name, limits, the response and its abort signal. */
export interface ModeContext {
  readonly model: DemoLanguageModel;
  readonly modelId: string;
  readonly limits: Limits;
  readonly res: ServerResponse;
  readonly signal: AbortSignal;
  /** LMI with speculative decoding: tokens accepted per step beyond the first (0: one token a step). */
  readonly speculativeLength: number;
  /** Counts prompt log-probability computations (decoder_input_details), shown on `/ping`. */
  readonly countPrefill: () => void;
  /** The container's rolling batch (LMI): a generation that fails fails every other one running. */
  readonly batch: RollingBatch;
}

/** The tokens of a fixed text (a tool call's JSON, a schema instance), then end of sequence. */
async function* fixed(model: DemoLanguageModel, text: string): AsyncGenerator<GeneratedToken, FinishReason> {
  for (const piece of pieces(text))
    yield { id: model.encode(piece)[0] ?? 0, text: piece, logprob: 0, special: false };
  yield { id: model.eosId, text: EOS_TOKEN_TEXT, logprob: 0, special: true };
  return 'eos_token';
}

/** Tokens of a chat plan: sampled for text, fixed for a tool call (`text` is what the grammar made) or JSON. */
export function planTokens(
  ctx: ModeContext,
  plan: ChatPlan,
  options: SamplingOptions,
  toolText: (name: string, args: string) => string,
): AsyncGenerator<GeneratedToken, FinishReason> {
  if (plan.kind === 'tool') return fixed(ctx.model, toolText(plan.name, plan.arguments));
  if (plan.kind === 'json') return fixed(ctx.model, plan.json);
  return ctx.model.generate(plan.prompt, options, ctx.signal);
}

export interface Marked {
  readonly token: GeneratedToken;
  /** 1-based position in the generation. */
  readonly index: number;
  /** Set on the last token only. */
  readonly finish: FinishReason | undefined;
}

/** Each token with the finish reason on the last one (one token of look-ahead). */
export async function* marked(tokens: AsyncGenerator<GeneratedToken, FinishReason>): AsyncGenerator<Marked> {
  let next = await tokens.next();
  let index = 0;
  while (!next.done) {
    const token = next.value;
    next = await tokens.next();
    index++;
    yield { token, index, finish: next.done ? next.value : undefined };
  }
}

/**
 * Tokens grouped by decoding step: one a step, or up to `1 + speculativeLength`
 * with speculative decoding. The finish reason of a step's last token is known
 * to the whole step, as a rolling batch knows it when it formats the step.
 */
export async function* steps(
  tokens: AsyncIterable<Marked>,
  speculativeLength: number,
): AsyncGenerator<Marked[]> {
  let step: Marked[] = [];
  for await (const m of tokens) {
    step.push(m);
    if (m.finish || step.length > speculativeLength) {
      yield step;
      step = [];
    }
  }
  if (step.length > 0) yield step;
}

export const SSE_HEADERS = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' };
export const JSON_HEADERS = { 'Content-Type': 'application/json' };

/** The bytes of a token's text, as OpenAI's log probabilities carry them. */
export function bytesOf(text: string): number[] {
  return [...new TextEncoder().encode(text)];
}
