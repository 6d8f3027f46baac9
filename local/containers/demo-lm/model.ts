/**
 * The demo language model: a character-level transformer run by onnxruntime-node,
 * with a seeded sampler (a seed reproduces a generation exactly) and a real
 * end-of-sequence token, so every container mode streams the same tokens.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

export interface SamplingOptions {
  readonly maxNewTokens: number;
  /** 0 or undefined with `sample: false` means greedy. */
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  readonly sample: boolean;
  readonly stop: readonly string[];
  readonly seed: number;
}

export interface GeneratedToken {
  readonly id: number;
  /** `</s>` for the end-of-sequence token, as TGI decodes special tokens. */
  readonly text: string;
  readonly logprob: number;
  /** True for the end-of-sequence token only: it is not part of the generated text. */
  readonly special: boolean;
}

/** Why a generation stopped, in TGI's words (LMI says `eos_token` and `length` too). */
export type FinishReason = 'length' | 'eos_token' | 'stop_sequence';

/** Text of the end-of-sequence token. */
export const EOS_TOKEN_TEXT = '</s>';

/**
 * A prompt containing this text makes the generation fail after its eighth token,
 * as a GPU fault would: the only way to show how each container reports a
 * server-side failure (424, stream error events). Demo only.
 */
export const FAULT_MARKER = '[[generation-fault]]';

/** A failure during generation (TGI: `InferError::GenerationError`, 424). */
export class GenerationFault extends Error {}

/** End of a fortune in the training text: two newlines, which the model emits as one end-of-sequence token. */
const EOS_TEXT = '\n\n';

/** mulberry32: a seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class DemoLanguageModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly vocab: readonly string[],
    private readonly index: ReadonlyMap<string, number>,
    readonly context: number,
  ) {}

  static async load(dir: string): Promise<DemoLanguageModel> {
    const tokenizer = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as {
      vocab: string[];
      context: number;
    };
    const session = await ort.InferenceSession.create(readFileSync(join(dir, 'model.onnx')), {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
    });
    return new DemoLanguageModel(
      session,
      tokenizer.vocab,
      new Map(tokenizer.vocab.map((c, i) => [c, i])),
      tokenizer.context,
    );
  }

  /** Id of the end-of-sequence token: one past the character vocabulary. */
  get eosId(): number {
    return this.vocab.length;
  }

  /** Character tokens; characters outside the vocabulary become '?'. */
  encode(text: string): number[] {
    const unknown = this.index.get('?') ?? 0;
    return [...text].map((c) => this.index.get(c) ?? unknown);
  }

  /**
   * Generates up to `maxNewTokens` tokens after `prompt`, yielding each one;
   * returns why it stopped. The end-of-sequence token is yielded (special) and
   * counted, as TGI and vLLM count it. `signal` aborts between tokens.
   * @throws GenerationFault after eight tokens when the prompt holds FAULT_MARKER.
   */
  async *generate(
    prompt: string,
    options: SamplingOptions,
    signal?: AbortSignal,
  ): AsyncGenerator<GeneratedToken, FinishReason> {
    const ids = this.encode(prompt.length > 0 ? prompt : '\n');
    const random = prng(options.seed);
    const fault = prompt.includes(FAULT_MARKER);
    let text = '';
    let held: GeneratedToken | undefined;
    let count = 0;
    while (count < options.maxNewTokens) {
      if (signal?.aborted) return 'length';
      if (fault && count === 8)
        throw new GenerationFault('CUDA error: an illegal memory access was encountered');
      const window = ids.slice(-this.context);
      const input = new ort.Tensor('int64', BigInt64Array.from(window, BigInt), [1, window.length]);
      const { logits } = await this.session.run({ input_ids: input });
      const { id, logprob } = this.pick(logits?.data as Float32Array, options, random);
      ids.push(id);
      const token = { id, text: this.vocab[id] ?? '?', logprob, special: false };
      // A newline is held until the next token says whether it starts the end of sequence.
      if (held) {
        if (token.text === '\n') {
          count++;
          yield { id: this.eosId, text: EOS_TOKEN_TEXT, logprob: held.logprob + logprob, special: true };
          return 'eos_token';
        }
        const previous = held;
        held = undefined;
        count++;
        text += previous.text;
        yield previous;
        if (hitStop(text, options.stop)) return 'stop_sequence';
        if (count >= options.maxNewTokens) return 'length';
      }
      if (token.text === EOS_TEXT[0] && !options.stop.includes('\n')) {
        held = token;
        continue;
      }
      count++;
      text += token.text;
      yield token;
      if (hitStop(text, options.stop)) return 'stop_sequence';
    }
    if (held) {
      count++;
      yield held;
    }
    return 'length';
  }

  private pick(
    logits: Float32Array,
    options: SamplingOptions,
    random: () => number,
  ): { id: number; logprob: number } {
    const greedy = !options.sample || options.temperature <= 0;
    const t = greedy ? 1 : options.temperature;
    let max = Number.NEGATIVE_INFINITY;
    for (const v of logits) max = Math.max(max, v / t);
    const probs = Array.from(logits, (v) => Math.exp(v / t - max));
    const total = probs.reduce((a, b) => a + b, 0);
    const order = probs.map((p, i) => ({ i, p: p / total })).sort((a, b) => b.p - a.p);
    if (greedy) {
      const best = order[0] as { i: number; p: number };
      return { id: best.i, logprob: Math.log(best.p) };
    }
    // Nucleus and top-k: keep the smallest prefix with mass >= top_p, at most top_k tokens.
    const kept: Array<{ i: number; p: number }> = [];
    let mass = 0;
    for (const entry of order) {
      kept.push(entry);
      mass += entry.p;
      if (mass >= options.topP || kept.length >= options.topK) break;
    }
    let point = random() * mass;
    for (const entry of kept) {
      point -= entry.p;
      if (point <= 0) return { id: entry.i, logprob: Math.log(entry.p) };
    }
    const last = kept[kept.length - 1] as { i: number; p: number };
    return { id: last.i, logprob: Math.log(last.p) };
  }
}

function hitStop(text: string, stop: readonly string[]): boolean {
  return stop.some((s) => s.length > 0 && text.endsWith(s));
}
