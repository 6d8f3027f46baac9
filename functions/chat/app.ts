/**
 * The chat function's handler: OpenAI-compatible chat and text completions on large models on SageMaker
 * endpoints, answered whole or streamed as server-sent events, failures as OpenAI-shaped errors.
 */
import type { Writable } from 'node:stream';
import { callerKey } from '../core/auth.ts';
import { BadRequestError, NotFoundError, UpstreamError } from '../core/errors.ts';
import { jsonBody } from '../core/http.ts';
import {
  containerBody,
  GENERATION_ROUTES,
  type Generation,
  type GenerationRoute,
  parseGeneration,
  type StreamChunk,
  streamEvents,
  streamedAnswer,
  wholeAnswer,
} from '../core/protocols/generation/generation.ts';
import { openAIError, SSE_DONE, sse } from '../core/protocols/openai.ts';
import type { SageMakerRunner } from '../core/runners/sagemaker.ts';
import type { HttpResponseMetadata, StreamingHandler } from '../core/streaming.ts';
import type { Telemetry } from '../core/telemetry.ts';
import type { UsageSink } from '../core/usage/recorder.ts';
import { recordFailed, recordServed } from '../core/usage/requests.ts';
import type { Admit } from '../core/usage/route.ts';

export interface ChatDependencies {
  /** Large models by the name clients use. */
  readonly models: ReadonlyMap<string, SageMakerRunner>;
  readonly telemetry: Telemetry;
  /** Where each answer's tokens are counted for the calling API key. */
  readonly usage?: UsageSink | undefined;
  /** Budgets and per-minute limits: throws over one, else the `x-ratelimit-*` headers. */
  readonly admit?: Admit | undefined;
  /** `awslambda.HttpResponseStream.from`. */
  readonly open: (stream: Writable, metadata: HttpResponseMetadata) => Writable;
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };
const EXPECTED: Record<GenerationRoute, string> = {
  '/v1/chat/completions': 'an OpenAI chat completion request {"model", "messages"}',
  '/v1/completions': 'an OpenAI completion request {"model", "prompt"}',
};
const SSE_HEADERS = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' };

/**
 * The chat function: OpenAI-compatible `POST /v1/chat/completions` and
 * `POST /v1/completions` over large models on SageMaker endpoints, streamed
 * token by token when the request says `stream: true`.
 */
export function createChatHandler(deps: ChatDependencies): StreamingHandler {
  const { models, telemetry, open, usage, admit } = deps;

  const answerJson = (
    stream: Writable,
    statusCode: number,
    body: unknown,
    headers: Record<string, string> = {},
  ) => {
    const out = open(stream, { statusCode, headers: { ...JSON_HEADERS, ...headers } });
    out.end(JSON.stringify(body));
  };

  const runnerFor = (request: { model: string }): SageMakerRunner => {
    const runner = models.get(request.model);
    if (!runner) {
      throw new NotFoundError(
        `The model '${request.model}' does not exist or is not a language model; GET /v1/models lists them`,
        { param: 'model' },
      );
    }
    if (runner.model.protocol === 'v2') {
      throw new BadRequestError(
        `model '${request.model}' takes tensors: use POST /v2/models/${request.model}/infer`,
        {
          param: 'model',
        },
      );
    }
    return runner;
  };

  /**
   * Streams chunks as server-sent events. A failure mid-stream ends it with an
   * OpenAI error event, then `[DONE]`, never a hang.
   */
  const pipe = async (
    stream: Writable,
    first: IteratorResult<StreamChunk>,
    rest: AsyncIterator<StreamChunk>,
    clientWantsUsage: boolean,
    headers: Record<string, string>,
  ): Promise<TokenUsage | undefined> => {
    const out = open(stream, { statusCode: 200, headers: { ...SSE_HEADERS, ...headers } });
    let last: StreamChunk | undefined;
    let counted: TokenUsage | undefined;
    try {
      let next = first;
      while (!next.done) {
        last = next.value;
        const tokens = usageOf(next.value);
        // The usage chunk is always made, for accounting; the client sees it only when it asked.
        if (tokens) counted = tokens;
        if ((!tokens || clientWantsUsage) && !out.write(sse(next.value)))
          await new Promise((r) => out.once('drain', r));
        next = await rest.next();
      }
    } catch (error) {
      // The OpenAI SDK reads an `error` event as the failure of the stream and throws it.
      out.write(sse({ error: openAIError(error).body.error }));
      telemetry.logger.warn('stream failed', { error: error as Error, after: last?.id });
      counted = undefined;
    }
    out.end(SSE_DONE);
    return counted;
  };

  const run = async (
    stream: Writable,
    signal: AbortSignal,
    generation: Generation,
    event: Parameters<StreamingHandler>[0],
  ) => {
    const { request } = generation;
    const runner = runnerFor(request);
    const limited = admit ? await admit(callerKey(event), request.model, true) : {};
    const body = JSON.stringify(containerBody(generation, runner.model.protocol));
    const where = `model '${runner.model.name}' (endpoint ${runner.model.endpoint})`;
    const started = performance.now();
    const record = (status: number) =>
      telemetry.recordRequest(
        { name: request.model, version: runner.model.endpoint },
        performance.now() - started,
        status,
      );
    try {
      if (!request.stream) {
        const answer = await runner.invoke(body, signal);
        let parsed: unknown;
        try {
          parsed = JSON.parse(new TextDecoder().decode(answer.body));
        } catch {
          throw new UpstreamError(
            `model '${runner.model.name}' (endpoint ${runner.model.endpoint}) answered something that is not JSON`,
          );
        }
        const result = wholeAnswer(generation, parsed, where);
        record(200);
        answerJson(stream, 200, result, limited);
        recordServed(usage, event, request.model, tokensOf(result.usage));
        return;
      }
      const upstream = await runner.stream(body, signal);
      const counting = { ...generation, request: { ...request, includeUsage: true } } as Generation;
      const chunks = streamedAnswer(
        counting,
        streamEvents(upstream.chunks, upstream.contentType, where),
        where,
      );
      const iterator = chunks[Symbol.asyncIterator]();
      // Errors before the first chunk still get a proper status code.
      const first = await iterator.next();
      record(200);
      const tokens = await pipe(stream, first, iterator, request.includeUsage, limited);
      if (tokens) recordServed(usage, event, request.model, tokens);
      // A stream cut short: by the client (a client error, 499 as proxies log it) or by the model.
      else recordFailed(usage, event, request.model, signal.aborted ? 499 : 502);
    } catch (error) {
      const status = openAIError(error).statusCode;
      record(status);
      throw error;
    }
  };

  return async (event, responseStream) => {
    const aborter = new AbortController();
    responseStream.on('close', () => aborter.abort());
    let model = '-';
    try {
      const route = GENERATION_ROUTES.find((r) => r === event.resource);
      if (event.httpMethod !== 'POST' || !route) {
        throw new NotFoundError(`no route for ${event.httpMethod} ${event.path}`);
      }
      const generation = parseGeneration(route, jsonBody(event, EXPECTED[route]));
      model = generation.request.model;
      await run(responseStream, aborter.signal, generation, event);
    } catch (error) {
      const failure = openAIError(error);
      recordFailed(usage, event, model, failure.statusCode);
      if (failure.statusCode >= 500) {
        const log = failure.statusCode === 503 ? telemetry.logger.warn : telemetry.logger.error;
        log.call(telemetry.logger, 'request failed', {
          requestId: event.requestContext?.requestId,
          route: `${event.httpMethod} ${event.resource}`,
          error: error as Error,
        });
      }
      if (!responseStream.writableEnded && !aborter.signal.aborted) {
        answerJson(responseStream, failure.statusCode, failure.body, { ...failure.headers });
      }
    }
  };
}

type TokenUsage = { promptTokens: number; completionTokens: number };

/** The tokens of a final usage chunk (`choices: []`, `usage`), else undefined. */
function usageOf(chunk: StreamChunk): TokenUsage | undefined {
  const c = chunk as { choices?: unknown[]; usage?: { prompt_tokens: number; completion_tokens: number } };
  return c.usage && c.choices?.length === 0 ? tokensOf(c.usage) : undefined;
}

function tokensOf(usage: { prompt_tokens: number; completion_tokens: number }): TokenUsage {
  return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens };
}
