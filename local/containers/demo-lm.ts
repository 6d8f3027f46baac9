/**
 * The demo language model as a SageMaker container: `GET /ping`,
 * `POST /invocations` speaking Hugging Face TGI's API (generate and messages,
 * streaming and not) over a character-level transformer run by
 * onnxruntime-node. A demo: it writes fortune-flavoured gibberish; the
 * protocol, sampling and streaming mechanics are real.
 *
 *   tsx local/containers/demo-lm.ts serve
 *
 * Env: SAGEMAKER_BIND_TO_PORT (default 8080), SM_MODEL_DIR (default /opt/ml/model,
 * holding model.onnx and tokenizer.json), MODEL_ID (name reported in answers).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  readonly text: string;
  readonly logprob: number;
}

export type FinishReason = 'length' | 'eos_token' | 'stop_sequence';

/** End of a fortune in the training text: the model's natural end of sequence. */
const EOS_TEXT = '\n\n';

/** mulberry32: a seeded PRNG, so a seed reproduces a generation exactly. */
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

  /** Character tokens; characters outside the vocabulary become '?'. */
  encode(text: string): number[] {
    const unknown = this.index.get('?') ?? 0;
    return [...text].map((c) => this.index.get(c) ?? unknown);
  }

  /**
   * Generates up to `maxNewTokens` tokens after `prompt`, yielding each one.
   * Returns why it stopped. `signal` aborts between tokens.
   */
  async *generate(
    prompt: string,
    options: SamplingOptions,
    signal?: AbortSignal,
  ): AsyncGenerator<GeneratedToken, FinishReason> {
    const ids = this.encode(prompt.length > 0 ? prompt : '\n');
    const random = prng(options.seed);
    let text = '';
    for (let n = 0; n < options.maxNewTokens; n++) {
      if (signal?.aborted) return 'length';
      const window = ids.slice(-this.context);
      const input = new ort.Tensor('int64', BigInt64Array.from(window, BigInt), [1, window.length]);
      const { logits } = await this.session.run({ input_ids: input });
      const { id, logprob } = this.pick(logits?.data as Float32Array, options, random);
      ids.push(id);
      const token = { id, text: this.vocab[id] ?? '?', logprob };
      text += token.text;
      yield token;
      if (text.endsWith(EOS_TEXT)) return 'eos_token';
      if (options.stop.some((s) => s.length > 0 && text.endsWith(s))) return 'stop_sequence';
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

class ValidationError extends Error {}

type Json = Record<string, unknown>;

function number(value: unknown, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ValidationError(`\`${name}\` must be a number between ${min} and ${max}`);
  }
  return value;
}

function stops(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((s) => typeof s === 'string') || list.length > 4) {
    throw new ValidationError('`stop` must be a string or a list of at most 4 strings');
  }
  return list as string[];
}

/** Sampling options from TGI `parameters` (generate API). */
export function generateOptions(parameters: Json): SamplingOptions {
  const temperature = number(parameters.temperature, 'temperature', 0, 100, 1);
  const topP = number(parameters.top_p, 'top_p', 0, 1, 1);
  const sample =
    parameters.do_sample === true || parameters.temperature !== undefined || parameters.top_p !== undefined;
  return {
    maxNewTokens: number(parameters.max_new_tokens, 'max_new_tokens', 1, 2048, 64),
    temperature,
    topP: topP === 0 ? 1 : topP,
    topK: number(parameters.top_k, 'top_k', 1, 1000, 1000),
    sample,
    stop: stops(parameters.stop),
    seed: number(parameters.seed, 'seed', 0, 2 ** 53, Math.floor(Math.random() * 2 ** 31)),
  };
}

/** Sampling options from an OpenAI-shaped messages request (TGI's Messages API). */
export function messagesOptions(body: Json): SamplingOptions {
  const temperature = number(body.temperature, 'temperature', 0, 2, 1);
  return {
    maxNewTokens: number(body.max_completion_tokens ?? body.max_tokens, 'max_tokens', 1, 2048, 64),
    temperature,
    topP: number(body.top_p, 'top_p', 0, 1, 1) || 1,
    topK: 1000,
    sample: temperature > 0,
    stop: stops(body.stop),
    seed: number(body.seed, 'seed', 0, 2 ** 53, Math.floor(Math.random() * 2 ** 31)),
  };
}

/** The prompt a chat becomes: one `role: content` line per message, then the assistant's turn. */
export function chatPrompt(messages: unknown): string {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new ValidationError('`messages` must be a non-empty list of {role, content}');
  }
  const lines = messages.map((m, i) => {
    const { role, content } = (m ?? {}) as Json;
    if (typeof role !== 'string') throw new ValidationError(`messages[${i}].role must be a string`);
    const text = Array.isArray(content)
      ? content
          .map((part) => ((part as Json)?.type === 'text' ? String((part as Json).text ?? '') : ''))
          .join('')
      : content;
    if (typeof text !== 'string') throw new ValidationError(`messages[${i}].content must be a string`);
    return `${role}: ${text}`;
  });
  return `${lines.join('\n')}\nassistant: `;
}

const OPENAI_FINISH: Record<FinishReason, 'stop' | 'length'> = {
  eos_token: 'stop',
  stop_sequence: 'stop',
  length: 'length',
};

/** Removes a trailing stop sequence or end-of-sequence text, as OpenAI answers do. */
function trimStop(text: string, reason: FinishReason, stop: readonly string[]): string {
  if (reason === 'eos_token') return text.slice(0, -EOS_TEXT.length);
  if (reason === 'stop_sequence') {
    const hit = stop.find((s) => text.endsWith(s));
    return hit ? text.slice(0, -hit.length) : text;
  }
  return text;
}

/** The HTTP side of the container. */
export function createContainerServer(model: DemoLanguageModel, modelId: string) {
  let active = 0;
  return createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/ping') {
      // How many generations are running: lets tests see that a cancelled request stops generating.
      res.writeHead(200, { 'X-Active-Generations': String(active) }).end();
      return;
    }
    if (req.method !== 'POST' || req.url !== '/invocations') {
      res
        .writeHead(404, { 'Content-Type': 'application/json' })
        .end('{"error":"not found","error_type":"not_found"}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      active++;
      const done = handle(model, modelId, Buffer.concat(chunks).toString('utf8'), req, res);
      done.finally(() => active--).catch(() => {});
      done.catch((error: unknown) => {
        const validation = error instanceof ValidationError;
        if (!res.headersSent) {
          res.writeHead(validation ? 422 : 500, { 'Content-Type': 'application/json' });
          res.end(
            JSON.stringify({
              error: (error as Error).message,
              error_type: validation ? 'validation' : 'generation',
            }),
          );
        } else res.destroy(error as Error);
      });
    });
  });
}

async function handle(
  model: DemoLanguageModel,
  modelId: string,
  raw: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let body: Json;
  try {
    body = JSON.parse(raw) as Json;
  } catch {
    throw new ValidationError('request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('request body must be a JSON object with `inputs` or `messages`');
  }
  const aborter = new AbortController();
  res.on('close', () => aborter.abort());
  if ('messages' in body) return messages(model, modelId, body, res, aborter.signal);
  if (typeof body.inputs !== 'string') throw new ValidationError('`inputs` must be a string');
  const parameters = (body.parameters ?? {}) as Json;
  if (typeof parameters !== 'object' || Array.isArray(parameters)) {
    throw new ValidationError('`parameters` must be an object');
  }
  return generate(model, body.inputs, parameters, body.stream === true, res, aborter.signal, req);
}

async function generate(
  model: DemoLanguageModel,
  inputs: string,
  parameters: Json,
  stream: boolean,
  res: ServerResponse,
  signal: AbortSignal,
  _req: IncomingMessage,
): Promise<void> {
  const options = generateOptions(parameters);
  const tokens = model.generate(inputs, options, signal);
  let text = '';
  let count = 0;
  let next = await tokens.next();
  if (stream) res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  while (!next.done) {
    const token = next.value;
    text += token.text;
    count++;
    next = await tokens.next();
    if (stream) {
      const final = next.done
        ? {
            generated_text: parameters.return_full_text ? inputs + text : text,
            details: { finish_reason: next.value, generated_tokens: count, seed: options.seed },
          }
        : { generated_text: null, details: null };
      res.write(
        `data:${JSON.stringify({ index: count, token: { ...token, special: false }, ...final })}\n\n`,
      );
    }
  }
  if (stream) {
    res.end();
    return;
  }
  const answer: Json = { generated_text: parameters.return_full_text ? inputs + text : text };
  if (parameters.details) {
    // TGI lists the prompt's tokens only when asked for decoder input details.
    const prefill = parameters.decoder_input_details
      ? model.encode(inputs).map((id) => ({ id, text: model.vocab[id] ?? '?', logprob: null }))
      : [];
    answer.details = {
      finish_reason: next.value,
      generated_tokens: count,
      seed: options.seed,
      prefill,
      tokens: [],
    };
  }
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify([answer]));
}

async function messages(
  model: DemoLanguageModel,
  modelId: string,
  body: Json,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<void> {
  const prompt = chatPrompt(body.messages);
  const options = messagesOptions(body);
  if (body.n !== undefined && body.n !== 1) throw new ValidationError('`n` must be 1');
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const promptTokens = model.encode(prompt).length;
  const stream = body.stream === true;
  const includeUsage = ((body.stream_options ?? {}) as Json).include_usage === true;
  const chunk = (choices: unknown[], extra: Json = {}) =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: modelId, system_fingerprint: 'demo-lm', choices, ...extra })}\n\n`;

  const tokens = model.generate(prompt, options, signal);
  let text = '';
  let count = 0;
  let sent = 0;
  let next = await tokens.next();
  if (stream) res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
  while (!next.done) {
    text += next.value.text;
    count++;
    next = await tokens.next();
    if (stream) {
      // Hold back text that could still turn out to be a stop sequence or the end marker.
      const safe = next.done
        ? trimStop(text, next.value, options.stop)
        : text.slice(0, text.length - holdBack(text, options.stop));
      if (safe.length > sent) {
        const delta =
          sent === 0 ? { role: 'assistant', content: safe.slice(sent) } : { content: safe.slice(sent) };
        res.write(chunk([{ index: 0, delta, logprobs: null, finish_reason: null }]));
        sent = safe.length;
      }
    }
  }
  const reason = next.value;
  const content = trimStop(text, reason, options.stop);
  const usage = { prompt_tokens: promptTokens, completion_tokens: count, total_tokens: promptTokens + count };
  if (stream) {
    const delta = sent === 0 ? { role: 'assistant', content: '' } : {};
    res.write(chunk([{ index: 0, delta, logprobs: null, finish_reason: OPENAI_FINISH[reason] }]));
    if (includeUsage) res.write(chunk([], { usage }));
    res.end('data: [DONE]\n\n');
    return;
  }
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(
    JSON.stringify({
      id,
      object: 'chat.completion',
      created,
      model: modelId,
      system_fingerprint: 'demo-lm',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content },
          logprobs: null,
          finish_reason: OPENAI_FINISH[reason],
        },
      ],
      usage,
    }),
  );
}

/** Characters at the end of `text` that are a prefix of a stop sequence or of the end marker. */
function holdBack(text: string, stop: readonly string[]): number {
  let hold = 0;
  for (const s of [...stop, EOS_TEXT]) {
    for (let k = Math.min(s.length - 1, text.length); k > hold; k--) {
      if (text.endsWith(s.slice(0, k))) {
        hold = k;
        break;
      }
    }
  }
  return hold;
}

/** Starts the container: loads the model, then listens. */
export async function serve(options: { port: number; modelDir: string; modelId: string }) {
  const model = await DemoLanguageModel.load(options.modelDir);
  const server = createContainerServer(model, options.modelId);
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

if (process.argv[2] === 'serve') {
  const { port } = await serve({
    port: Number(process.env.SAGEMAKER_BIND_TO_PORT ?? 8080),
    modelDir: process.env.SM_MODEL_DIR ?? '/opt/ml/model',
    modelId: process.env.MODEL_ID ?? 'demo-lm',
  });
  console.log(JSON.stringify({ listening: port }));
  process.on('SIGTERM', () => process.exit(0));
}
