/**
 * Large models that scale to zero, locally: the emulator's inference components and cold start, answered 503
 * with Retry-After or held until capacity is back, through the OpenAI SDK.
 */
import {
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
  SageMakerRuntimeClient,
  SageMakerRuntimeServiceException,
  ValidationError,
} from '@aws-sdk/client-sagemaker-runtime';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isNoCapacity, NO_CAPACITY } from '../../functions/core/runners/no-capacity.ts';
import { COLD_START_RETRY_AFTER_SECONDS } from '../../functions/core/runners/sagemaker.ts';
import { parseConfig } from '../../infra/config.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

const COLD_START_SECONDS = 1.5;
const IDLE_COLD_START = 0.5;
let api: TestTopology;

beforeAll(async () => {
  const zero = {
    container: 'tgi',
    hfModelId: 'org/model',
    instanceType: 'ml.g5.2xlarge',
    minInstances: 0,
    localColdStartSeconds: COLD_START_SECONDS,
  };
  const config = parseConfig({
    largeModels: [
      { ...zero, name: 'cold-answered' },
      { ...zero, name: 'cold-held', coldStartWaitSeconds: 60 },
      { ...zero, name: 'cold-held-whole', coldStartWaitSeconds: 60 },
      { ...zero, name: 'cold-too-long', coldStartWaitSeconds: 1, localColdStartSeconds: 600 },
      { ...zero, name: 'cold-wire', localColdStartSeconds: 600 },
      // Back to zero after a short idle time, as the deployed idle policy does after minutes.
      {
        ...zero,
        name: 'idle-answered',
        localColdStartSeconds: IDLE_COLD_START,
        localScaleToZeroAfterSeconds: 1,
      },
      {
        ...zero,
        name: 'idle-held',
        coldStartWaitSeconds: 60,
        localColdStartSeconds: IDLE_COLD_START,
        localScaleToZeroAfterSeconds: 1,
      },
    ],
  });
  api = await startTestTopology({ config, languageModels: true });
}, 90_000);
afterAll(async () => {
  await api.close();
});

const client = () => new OpenAI({ apiKey: api.apiKey, baseURL: `${api.apiUrl}/v1`, maxRetries: 0 });
const hello = { messages: [{ role: 'user' as const, content: 'hi' }], max_tokens: 5 };

describe('a model scaled to zero', () => {
  it('answers 503 with Retry-After and an OpenAI error while it starts, then serves', async () => {
    const error = await client()
      .chat.completions.create({ model: 'cold-answered', ...hello })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    const apiError = error as InstanceType<typeof OpenAI.APIError>;
    expect(apiError.status).toBe(503);
    expect(apiError.headers?.get('retry-after')).toBe(String(COLD_START_RETRY_AFTER_SECONDS));
    expect(apiError.error).toMatchObject({
      type: 'service_unavailable_error',
      message: expect.stringMatching(/cold-answered.*scaled to zero and starting/),
    });
    const answer = await vi.waitFor(
      () => client().chat.completions.create({ model: 'cold-answered', ...hello }),
      {
        timeout: 15_000,
        interval: 200,
      },
    );
    expect(answer.choices[0]?.message.content?.length).toBeGreaterThan(0);
  });

  it('with coldStartWaitSeconds, holds a streamed request: the first token comes late, not an error', async () => {
    const started = Date.now();
    const stream = await client().chat.completions.create({ model: 'cold-held', stream: true, ...hello });
    let first: number | undefined;
    let text = '';
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.content ?? '';
      if (delta && first === undefined) first = Date.now();
      text += delta;
    }
    expect(text.length).toBeGreaterThan(0);
    expect((first ?? 0) - started).toBeGreaterThanOrEqual(COLD_START_SECONDS * 1000 - 50);
  });
});

describe('a held request', () => {
  it('answers whole once capacity is back', async () => {
    const started = Date.now();
    const answer = await client().chat.completions.create({ model: 'cold-held-whole', ...hello });
    expect(answer.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(COLD_START_SECONDS * 1000 - 50);
  });

  it('answers 503 with Retry-After once coldStartWaitSeconds is spent', async () => {
    const started = Date.now();
    const error = await client()
      .chat.completions.create({ model: 'cold-too-long', stream: true, ...hello })
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(error).toMatchObject({ status: 503, error: { type: 'service_unavailable_error' } });
    expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe(
      String(COLD_START_RETRY_AFTER_SECONDS),
    );
  });
});

/** The real SDK client against the topology's SageMaker Runtime emulator, one attempt per call. */
const runtime = () =>
  new SageMakerRuntimeClient({
    endpoint: api.sagemakerUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });

describe('the SageMaker Runtime emulator with an inference component', () => {
  const invoke = (InferenceComponentName?: string) =>
    runtime()
      .send(
        new InvokeEndpointCommand({
          EndpointName: 'cold-held',
          ...(InferenceComponentName && { InferenceComponentName }),
          ContentType: 'application/json',
          Body: JSON.stringify({ inputs: 'hi', parameters: { max_new_tokens: 2 } }),
        }),
      )
      .catch((e: unknown) => e as SageMakerRuntimeServiceException);

  it('refuses an invocation that does not name the component, or names another', async () => {
    const missing = await invoke();
    expect(missing).toBeInstanceOf(SageMakerRuntimeServiceException);
    expect(missing).toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/Inference Component Name header is required/),
    });
    expect(await invoke('other-ic')).toMatchObject({
      name: 'ValidationError',
      message: expect.stringMatching(/Inference component other-ic not found/),
    });
    // Served once the component has capacity (at once if the test above brought it up).
    const served = await vi.waitFor(
      async () => {
        const out = await invoke('cold-held-ic');
        if (out instanceof Error) throw out;
        return out;
      },
      { timeout: 15_000, interval: 200 },
    );
    expect(served).toMatchObject({ $metadata: { httpStatusCode: 200 } });
  });
});

describe('the no-capacity refusal on the wire', () => {
  const target = { EndpointName: 'cold-wire', InferenceComponentName: 'cold-wire-ic' };
  const body = JSON.stringify({ inputs: 'hi', parameters: { max_new_tokens: 2 } });

  it('is SageMaker’s ValidationError, 400, with its message, to InvokeEndpoint and its streamed form', async () => {
    const calls = [
      runtime().send(new InvokeEndpointCommand({ ...target, ContentType: 'application/json', Body: body })),
      runtime().send(
        new InvokeEndpointWithResponseStreamCommand({
          ...target,
          ContentType: 'application/json',
          Body: body,
        }),
      ),
    ];
    for (const call of calls) {
      const error = await call.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({
        name: 'ValidationError',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: NO_CAPACITY.message,
      });
      expect(isNoCapacity(error)).toBe(true);
    }
    const raw = await fetch(`${api.sagemakerUrl}/endpoints/cold-wire/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-amzn-sagemaker-inference-component': 'cold-wire-ic' },
      body,
    });
    expect(raw.status).toBe(400);
    expect(raw.headers.get('x-amzn-errortype')).toBe('ValidationError');
    expect(await raw.json()).toMatchObject({ Message: NO_CAPACITY.message });
  });

  it('is told apart from the other ValidationErrors of a component endpoint', async () => {
    const other = await runtime()
      .send(
        new InvokeEndpointCommand({ EndpointName: 'cold-wire', InferenceComponentName: 'nope', Body: body }),
      )
      .catch((e: unknown) => e);
    expect(other).toBeInstanceOf(ValidationError);
    expect(isNoCapacity(other)).toBe(false);
  });
});

describe('a component idle for its scale-to-zero time', () => {
  /** Served once capacity is up, then left alone until the emulator has dropped its copies. */
  const warmThenIdle = async (model: string) => {
    await vi.waitFor(() => client().chat.completions.create({ model, ...hello }), {
      timeout: 15_000,
      interval: 100,
    });
    expect(api.componentCopies(model)).toBe(1);
    // No request meanwhile: the copies go to zero on the emulator's own clock.
    await vi.waitFor(() => expect(api.componentCopies(model)).toBe(0), { timeout: 5_000, interval: 50 });
  };

  it('goes back to zero, and the next request meets a cold start again: 503 with Retry-After', async () => {
    await warmThenIdle('idle-answered');
    const error = await client()
      .chat.completions.create({ model: 'idle-answered', ...hello })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, error: { type: 'service_unavailable_error' } });
    expect((error as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe(
      String(COLD_START_RETRY_AFTER_SECONDS),
    );
  });

  it('with coldStartWaitSeconds, holds the next request through the new cold start', async () => {
    await warmThenIdle('idle-held');
    const started = Date.now();
    const stream = await client().chat.completions.create({ model: 'idle-held', stream: true, ...hello });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text.length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_COLD_START * 1000 - 50);
    expect(api.componentCopies('idle-held')).toBe(1);
  });
});
