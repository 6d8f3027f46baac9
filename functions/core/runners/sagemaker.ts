/**
 * The SageMaker runner: requests to a large model's SageMaker endpoint, answered whole or streamed, with
 * SageMaker's errors turned into ModelGate's (400, 429, 502, 503); a model scaled to zero is held or answered 503.
 */
import {
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
  type InvokeEndpointWithResponseStreamCommandOutput,
  type SageMakerRuntimeClient,
  SageMakerRuntimeServiceException,
} from '@aws-sdk/client-sagemaker-runtime';
import {
  BadRequestError,
  ModelGateError,
  ServiceUnavailableError,
  TooManyRequestsError,
  UpstreamError,
} from '../errors.ts';
import type { ContainerProtocol } from '../protocols/generation/request.ts';
import { isNoCapacity } from './no-capacity.ts';

/** A large model bound to a SageMaker endpoint. */
export interface LargeModel {
  /** Model name clients use (OpenAI `model`, V2 model name). */
  readonly name: string;
  /** SageMaker endpoint name. */
  readonly endpoint: string;
  readonly protocol: ContainerProtocol;
  /** The inference component to name, for a model that scales to zero. */
  readonly component?: string;
  /** Seconds to hold a request that finds no capacity, retrying, before answering 503. */
  readonly coldStartWaitSeconds?: number;
}

/** Seconds a client is told to wait when a model scaled to zero is starting. */
export const COLD_START_RETRY_AFTER_SECONDS = 30;

/** A model scaled to zero, starting: answered 503 with Retry-After, or held while coldStartWaitSeconds lasts. */
export class ColdStartError extends ServiceUnavailableError {
  constructor(where: string, cause: unknown) {
    super(`${where} is scaled to zero and starting (a few minutes); retry shortly`, {
      cause,
      retryAfterSeconds: COLD_START_RETRY_AFTER_SECONDS,
    });
    this.name = 'ColdStartError';
  }
}

export interface EndpointAnswer {
  readonly contentType: string | undefined;
  readonly body: Uint8Array;
}

export interface EndpointStream {
  readonly contentType: string | undefined;
  readonly chunks: AsyncIterable<Uint8Array>;
}

/**
 * Runs requests on a SageMaker endpoint: InvokeEndpoint for whole answers,
 * InvokeEndpointWithResponseStream for streams. SageMaker's errors become
 * ModelGate errors here, once: a container's 4xx is the client's mistake
 * (400 with the container's message) except 424, a failed generation, which
 * is a 502 like a container's 5xx or garbage;
 * not-ready and throttling are 503/429 with Retry-After.
 */
export class SageMakerRunner {
  readonly ready = true;

  constructor(
    private readonly client: SageMakerRuntimeClient,
    readonly model: LargeModel,
  ) {}

  get name(): string {
    return this.model.name;
  }

  /** SageMaker endpoints are provisioned by the stack: nothing to load here. */
  async load(): Promise<void> {}

  async invoke(body: string, signal?: AbortSignal): Promise<EndpointAnswer> {
    return this.whenCapacity(() => this.invokeOnce(body, signal), signal);
  }

  async stream(body: string, signal?: AbortSignal): Promise<EndpointStream> {
    return this.whenCapacity(() => this.streamOnce(body, signal), signal);
  }

  /**
   * Runs `call`; while it finds no capacity and coldStartWaitSeconds lasts, waits (backing off from
   * a quarter second to five) and calls again. The request is held, not failed: a streaming client
   * gets its first token late.
   */
  private async whenCapacity<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const deadline = Date.now() + (this.model.coldStartWaitSeconds ?? 0) * 1000;
    for (let pause = 250; ; pause = Math.min(pause * 2, 5000)) {
      try {
        return await call();
      } catch (error) {
        const left = deadline - Date.now();
        if (!(error instanceof ColdStartError) || left <= 0 || signal?.aborted) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
      }
    }
  }

  private get target() {
    return {
      EndpointName: this.model.endpoint,
      ...(this.model.component && { InferenceComponentName: this.model.component }),
    };
  }

  private async invokeOnce(body: string, signal?: AbortSignal): Promise<EndpointAnswer> {
    try {
      const out = await this.client.send(
        new InvokeEndpointCommand({
          ...this.target,
          Body: body,
          ContentType: 'application/json',
          Accept: 'application/json',
        }),
        { abortSignal: signal },
      );
      return { contentType: out.ContentType, body: out.Body ?? new Uint8Array() };
    } catch (error) {
      throw this.translate(error);
    }
  }

  private async streamOnce(body: string, signal?: AbortSignal): Promise<EndpointStream> {
    let out: InvokeEndpointWithResponseStreamCommandOutput;
    try {
      out = await this.client.send(
        new InvokeEndpointWithResponseStreamCommand({
          ...this.target,
          Body: body,
          ContentType: 'application/json',
          Accept: 'text/event-stream, application/jsonlines, application/json',
        }),
        { abortSignal: signal },
      );
    } catch (error) {
      throw this.translate(error);
    }
    const events = out.Body;
    const translate = (error: unknown) => this.translate(error);
    async function* chunks(): AsyncGenerator<Uint8Array> {
      try {
        for await (const event of events ?? []) {
          if (event.PayloadPart?.Bytes) yield event.PayloadPart.Bytes;
        }
      } catch (error) {
        throw translate(error);
      }
    }
    return { contentType: out.ContentType, chunks: chunks() };
  }

  /** A SageMaker Runtime failure as the error the client should see. */
  translate(error: unknown): ModelGateError {
    if (error instanceof ModelGateError) return error;
    const name = (error as Error)?.name;
    const message = (error as Error)?.message ?? String(error);
    const where = `model '${this.model.name}' (endpoint ${this.model.endpoint})`;
    if (error instanceof SageMakerRuntimeServiceException || name) {
      switch (name) {
        case 'ModelError': {
          const original = error as { OriginalStatusCode?: number; OriginalMessage?: string };
          const status = original.OriginalStatusCode ?? 0;
          const detail = containerMessage(original.OriginalMessage) ?? message;
          // 424 is a failed generation on the server (TGI's generation error, LMI's failed rolling batch).
          if (status >= 400 && status < 500 && status !== 429 && status !== 424) {
            return new BadRequestError(`${where} refused the request: ${detail}`, { cause: error });
          }
          if (status === 429)
            return new TooManyRequestsError(`${where} is overloaded: ${detail}`, { cause: error });
          return new UpstreamError(`${where} failed: ${detail}`, { cause: error });
        }
        case 'ModelNotReadyException':
          return new ServiceUnavailableError(`${where} is not ready yet; retry shortly`, {
            cause: error,
            retryAfterSeconds: 5,
          });
        case 'ThrottlingException':
          return new TooManyRequestsError(`${where} is throttled; retry shortly`, {
            cause: error,
            retryAfterSeconds: 1,
          });
        case 'ServiceUnavailable':
          return new ServiceUnavailableError(`SageMaker is unavailable for ${where}; retry shortly`, {
            cause: error,
          });
        case 'ModelStreamError':
          return new UpstreamError(`${where} failed while streaming: ${message}`, { cause: error });
        case 'ValidationError':
          // See no-capacity.ts: SageMaker gives this refusal no code of its own.
          if (this.model.component && isNoCapacity(error)) return new ColdStartError(where, error);
          return new UpstreamError(`SageMaker refused the call to ${where}: ${message}`, { cause: error });
        case 'AbortError':
          return new ModelGateError('request cancelled', 499, { cause: error });
      }
    }
    if (name === 'TimeoutError' || /ECONNREFUSED|socket hang up|ETIMEDOUT/.test(message)) {
      return new ServiceUnavailableError(`SageMaker Runtime unreachable for ${where}; retry shortly`, {
        cause: error,
      });
    }
    return new UpstreamError(`${where} failed`, { cause: error });
  }
}

/** The message inside a container's JSON error body (TGI `{"error"}`, others `{"message"}`), if any. */
function containerMessage(original: string | undefined): string | undefined {
  if (!original) return undefined;
  try {
    const parsed = JSON.parse(original) as Record<string, unknown>;
    const inner = parsed.error ?? parsed.message ?? parsed.Message;
    if (typeof inner === 'string') return inner;
    if (
      inner &&
      typeof inner === 'object' &&
      typeof (inner as Record<string, unknown>).message === 'string'
    ) {
      return (inner as Record<string, unknown>).message as string;
    }
  } catch {}
  return original.slice(0, 500);
}
