import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  chatAnswer,
  completionAnswer,
  containerChatBody,
  containerCompletionBody,
} from '../protocols/generation.ts';
import { parseChatRequest, parseCompletionRequest } from '../protocols/openai.ts';
import { isObject } from '../protocols/v2.ts';
import type { SageMakerRunner } from '../runners/sagemaker.ts';
import type { BatchTarget } from './layout.ts';

export interface ChatBatchResult {
  rows: number;
  failed: number;
  blankLines: number;
  modelMs: number;
  error?: string;
}

const ROUTES = ['/v1/chat/completions', '/v1/completions'] as const;

/**
 * One line of an OpenAI batch file (`{"custom_id", "method", "url", "body"}`)
 * answered by a large model: `{"line", "custom_id", "response": {"status_code", "body"}}`
 * or `{"line", "custom_id", "error"}`.
 */
async function answerLine(
  line: number,
  text: string,
  model: string,
  runner: SageMakerRunner,
): Promise<{ json: string; ok: boolean }> {
  let customId: unknown = null;
  try {
    const request = JSON.parse(text) as unknown;
    if (!isObject(request)) throw new Error('expected {"custom_id", "method", "url", "body"}');
    customId = request.custom_id ?? null;
    if (typeof request.custom_id !== 'string') throw new Error('"custom_id" must be a string');
    if ((request.method ?? 'POST') !== 'POST') throw new Error('"method" must be POST');
    if (!ROUTES.includes(request.url as (typeof ROUTES)[number]))
      throw new Error(`"url" must be one of ${ROUTES.join(', ')}`);
    const body = { ...(isObject(request.body) ? request.body : {}), model, stream: false };
    const chat = request.url === '/v1/chat/completions';
    const parsed = chat ? parseChatRequest(body) : parseCompletionRequest(body);
    const container = chat
      ? containerChatBody(parsed as never)
      : containerCompletionBody(parsed as never, runner.model.protocol);
    const answer = await runner.invoke(JSON.stringify(container));
    const raw = JSON.parse(new TextDecoder().decode(answer.body)) as unknown;
    const shaped = chat ? chatAnswer(parsed as never, raw) : completionAnswer(parsed as never, raw);
    return {
      json: JSON.stringify({ line, custom_id: customId, response: { status_code: 200, body: shaped } }),
      ok: true,
    };
  } catch (error) {
    const message = error instanceof SyntaxError ? `not JSON (${error.message})` : (error as Error).message;
    return { json: JSON.stringify({ line, custom_id: customId, error: message }), ok: false };
  }
}

/**
 * A batch of OpenAI requests for a large model: lines are answered with at
 * most `concurrency` requests in flight on the endpoint, and written in input
 * order as they complete.
 */
export async function runChatBatch(
  deps: { s3: S3Client; bucket: string },
  target: BatchTarget,
  runner: SageMakerRunner,
  concurrency = 4,
): Promise<ChatBatchResult> {
  const result: ChatBatchResult = { rows: 0, failed: 0, blankLines: 0, modelMs: 0 };
  if (target.format !== 'jsonl') {
    result.error = `model '${target.model}' is a language model: its batch input is the OpenAI batch format, JSON Lines`;
    return result;
  }
  const out = new PassThrough();
  const upload = new Upload({
    client: deps.s3,
    params: { Bucket: deps.bucket, Key: target.outputKey, Body: out, ContentType: 'application/x-ndjson' },
  });
  const uploaded = upload.done();
  uploaded.catch(() => {});
  const inFlight: Array<Promise<{ json: string; ok: boolean }>> = [];
  const writeHead = async () => {
    const done = await (inFlight.shift() as Promise<{ json: string; ok: boolean }>);
    if (!done.ok) result.failed++;
    if (!out.write(`${done.json}\n`)) await once(out, 'drain');
  };
  try {
    const object = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: target.inputKey }));
    const body = object.Body as Readable;
    const source = target.gzip ? body.pipe(createGunzip()) : body;
    let streamError: Error | undefined;
    body.on('error', (e) => {
      streamError ??= e;
    });
    if (source !== body) source.on('error', (e) => (streamError ??= e));
    const started = performance.now();
    let line = 0;
    for await (const text of createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY })) {
      line++;
      if (text.trim() === '') {
        result.blankLines++;
        continue;
      }
      result.rows++;
      inFlight.push(answerLine(line, text, target.model, runner));
      if (inFlight.length >= concurrency) await writeHead();
    }
    while (inFlight.length > 0) await writeHead();
    result.modelMs = performance.now() - started;
    if (streamError) throw streamError;
    out.end();
    await uploaded;
    return result;
  } catch (error) {
    out.destroy();
    await upload.abort().catch(() => {});
    throw error;
  }
}
