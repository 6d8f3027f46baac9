/**
 * Batch jobs for language models: an OpenAI batch file (JSON Lines) answered line by line by the model's
 * SageMaker endpoint, a few requests at a time, the answers written in input order.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { isObject } from '../json.ts';
import {
  containerBody,
  GENERATION_ROUTES,
  parseGeneration,
  wholeAnswer,
} from '../protocols/generation/generation.ts';
import type { SageMakerRunner } from '../runners/sagemaker.ts';
import { objectLines, objectWriter } from './io.ts';
import type { BatchTarget } from './layout.ts';

export interface ChatBatchResult {
  rows: number;
  failed: number;
  blankLines: number;
  modelMs: number;
  error?: string;
}

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
    const route = GENERATION_ROUTES.find((r) => r === request.url);
    if (!route) throw new Error(`"url" must be one of ${GENERATION_ROUTES.join(', ')}`);
    const body = { ...(isObject(request.body) ? request.body : {}), model, stream: false };
    const generation = parseGeneration(route, body);
    const answer = await runner.invoke(JSON.stringify(containerBody(generation, runner.model.protocol)));
    const raw = JSON.parse(new TextDecoder().decode(answer.body)) as unknown;
    const shaped = wholeAnswer(generation, raw);
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
  const output = objectWriter(deps, target.outputKey);
  const inFlight: Array<Promise<{ json: string; ok: boolean }>> = [];
  const writeHead = async () => {
    const done = await (inFlight.shift() as Promise<{ json: string; ok: boolean }>);
    if (!done.ok) result.failed++;
    await output.write(`${done.json}\n`);
  };
  try {
    const started = performance.now();
    let line = 0;
    for await (const text of objectLines(deps, target.inputKey, target.gzip)) {
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
    await output.end();
    return result;
  } catch (error) {
    await Promise.allSettled(inFlight);
    await output.abort();
    throw error;
  }
}
