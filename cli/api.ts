/**
 * The CLI's calls to the REST API: `modelgate predict` (instances from --data or a JSON Lines file) and
 * `modelgate chat` (a conversation with a language model, its answers streamed).
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { checkModelName } from '../functions/core/registry/manifest.ts';
import { type Io, json, table, UsageError } from './format.ts';
import type { Target } from './target.ts';

/** Instances per request when predicting a file: well under the API's body and element limits. */
const ROWS_PER_REQUEST = 500;

interface PredictAnswer {
  model_name: string;
  model_version: string;
  predictions: unknown[];
  probabilities?: Record<string, number>[] | number[][];
}

/**
 * `modelgate predict m --data '[[...]]'` or `--file rows.jsonl` (one instance
 * per line, an array or an object keyed by feature name): calls
 * `POST /v1/models/m/predict`, a file in requests of {@link ROWS_PER_REQUEST} rows.
 */
export async function predict(
  args: string[],
  flags: {
    data?: string | undefined;
    file?: string | undefined;
    'route-key'?: string | undefined;
    json: boolean;
  },
  target: Target,
  io: Io,
): Promise<number> {
  if (args.length !== 1) throw new UsageError('predict needs exactly one model name');
  const model = checkModelName(args[0] as string);
  if ((flags.data === undefined) === (flags.file === undefined)) {
    throw new UsageError("predict needs either --data '[[...], ...]' or --file rows.jsonl");
  }
  const instances = flags.data !== undefined ? parseData(flags.data) : readInstances(flags.file as string);
  const merged: PredictAnswer = { model_name: model, model_version: '', predictions: [] };
  const versions = new Set<string>();
  for (let i = 0; i < instances.length; i += ROWS_PER_REQUEST) {
    const answer = (await call(target, 'POST', `/v1/models/${model}/predict`, {
      body: { instances: instances.slice(i, i + ROWS_PER_REQUEST) },
      headers: flags['route-key'] ? { 'x-modelgate-route-key': flags['route-key'] } : {},
    })) as PredictAnswer;
    versions.add(answer.model_version);
    merged.predictions.push(...answer.predictions);
    if (answer.probabilities) {
      merged.probabilities = [
        ...(merged.probabilities ?? []),
        ...answer.probabilities,
      ] as PredictAnswer['probabilities'];
    }
  }
  merged.model_version = [...versions].join(',');
  if (flags.json) {
    json(io, merged);
    return 0;
  }
  const probabilities = merged.probabilities;
  io.out.write(
    table(
      probabilities ? ['ROW', 'PREDICTION', 'PROBABILITY'] : ['ROW', 'PREDICTION'],
      merged.predictions.map((p, i) => {
        const row = [String(i + 1), typeof p === 'string' ? p : JSON.stringify(p)];
        const probs = probabilities?.[i];
        if (probs) row.push(Math.max(...Object.values(probs)).toFixed(3));
        return row;
      }),
    ),
  );
  io.out.write(`model ${merged.model_name} version ${merged.model_version}\n`);
  return 0;
}

/**
 * `modelgate chat m`: a conversation with a language model over the
 * OpenAI-compatible API, tokens printed as they stream. Interactive (a line
 * typed, an answer streamed, until end of input or `/exit`), or one question
 * with `--message`.
 */
export async function chat(
  args: string[],
  flags: {
    message?: string | undefined;
    system?: string | undefined;
    'max-tokens'?: string | undefined;
    seed?: string | undefined;
    json: boolean;
  },
  target: Target,
  io: Io,
): Promise<number> {
  if (args.length !== 1) throw new UsageError('chat needs exactly one model name');
  const seed = flags.seed === undefined ? undefined : Number(flags.seed);
  if (seed !== undefined && (!Number.isInteger(seed) || seed < 0)) {
    throw new UsageError(`--seed must be a non-negative integer, got '${flags.seed}'`);
  }
  const model = args[0] as string;
  const maxTokens = flags['max-tokens'] === undefined ? undefined : Number(flags['max-tokens']);
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) {
    throw new UsageError(`--max-tokens must be a positive integer, got '${flags['max-tokens']}'`);
  }
  const messages: Array<{ role: string; content: string }> = flags.system
    ? [{ role: 'system', content: flags.system }]
    : [];
  const ask = async (text: string) => {
    messages.push({ role: 'user', content: text });
    const answer = await streamChat(target, { model, messages, max_tokens: maxTokens, seed }, (delta) => {
      if (!flags.json) io.out.write(delta);
    });
    messages.push({ role: 'assistant', content: answer.content });
    if (flags.json) json(io, { model, ...answer });
    else io.out.write('\n');
  };

  if (flags.message !== undefined) {
    await ask(flags.message);
    return 0;
  }
  const input = io.input ?? createInterface({ input: process.stdin, terminal: false });
  io.err.write(`chatting with ${model}; end with Ctrl-D or /exit\n> `);
  for await (const line of input) {
    const text = line.trim();
    if (text === '/exit') break;
    if (text !== '') await ask(text);
    io.err.write('> ');
  }
  io.err.write('\n');
  return 0;
}

/** Streams one chat completion, handing each content delta to `onDelta`. */
async function streamChat(
  target: Target,
  body: { model: string; messages: unknown[]; max_tokens: number | undefined; seed: number | undefined },
  onDelta: (text: string) => void,
): Promise<{ content: string; finish_reason: string | null }> {
  const response = await send(target, 'POST', '/v1/chat/completions', { ...body, stream: true }, {});
  if (!response.ok) throw new Error(await failure(response));
  let content = '';
  let finish: string | null = null;
  let pending = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    pending += decoder.decode(chunk, { stream: true });
    let end = pending.indexOf('\n\n');
    while (end >= 0) {
      const event = pending.slice(0, end);
      pending = pending.slice(end + 2);
      end = pending.indexOf('\n\n');
      for (const line of event.split('\n')) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') return { content, finish_reason: finish };
        const parsed = JSON.parse(data) as {
          error?: { message?: string };
          choices?: Array<{ delta?: { content?: string }; finish_reason?: string | null }>;
        };
        if (parsed.error)
          throw new Error(`the model failed mid-answer: ${parsed.error.message ?? 'unknown error'}`);
        const choice = parsed.choices?.[0];
        if (choice?.delta?.content) {
          content += choice.delta.content;
          onDelta(choice.delta.content);
        }
        if (choice?.finish_reason) finish = choice.finish_reason;
      }
    }
  }
  throw new Error('the answer stream ended without [DONE]');
}

/** One JSON request to the API; the parsed answer, or an Error with the API's message. */
async function call(
  target: Target,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> },
): Promise<unknown> {
  const response = await send(target, method, path, options.body, options.headers ?? {});
  if (!response.ok) throw new Error(await failure(response));
  return response.json();
}

async function send(
  target: Target,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<Response> {
  if (!target.apiUrl) {
    throw new Error(
      'no API to call: give --stack NAME or --api-url URL (local mode uses http://127.0.0.1:$MODELGATE_PORT)',
    );
  }
  if (!target.apiKey) {
    throw new Error(
      'no API key: give --api-key or set MODELGATE_API_KEY (a deployed key: aws apigateway get-api-key --include-value --api-key <ApiKeyId output>)',
    );
  }
  try {
    return await fetch(`${target.apiUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-api-key': target.apiKey, ...headers },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause ?? {};
    throw new Error(
      cause.code === 'ECONNREFUSED'
        ? `cannot reach the API at ${target.apiUrl}: is \`npm start\` running?`
        : `cannot reach the API at ${target.apiUrl}: ${cause.message ?? (error as Error).message}`,
    );
  }
}

/** `HTTP 400: <the API's message>`. */
async function failure(response: Response): Promise<string> {
  const text = await response.text();
  let message = text;
  try {
    const parsed = JSON.parse(text) as { error?: string | { message?: string }; message?: string };
    message =
      typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message ?? text);
  } catch {
    // Not JSON: the text is the message.
  }
  return `HTTP ${response.status}: ${message}`;
}

function parseData(text: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--data is not JSON (${(error as Error).message}): expected '[[1.0, 2.0], ...]'`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new UsageError("--data must be a non-empty JSON array of instances, e.g. '[[1.0, 2.0]]'");
  }
  return parsed;
}

function readInstances(file: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  const instances: unknown[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      instances.push(JSON.parse(line));
    } catch {
      throw new Error(`${file} line ${i + 1} is not JSON: expected one instance per line, e.g. [1.0, 2.0]`);
    }
  });
  if (instances.length === 0) throw new Error(`${file} has no instances`);
  return instances;
}
