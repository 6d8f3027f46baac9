/**
 * The SageMaker Runtime emulator driven by the AWS SDK, the demo language model and test containers behind it:
 * the three invoke operations, SageMaker's error types and injected faults, a stream that breaks, and a killed
 * container restarted by its supervisor.
 */
import type { Server } from 'node:http';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  InvokeEndpointAsyncCommand,
  InvokeEndpointCommand,
  InvokeEndpointWithResponseStreamCommand,
  SageMakerRuntimeClient,
} from '@aws-sdk/client-sagemaker-runtime';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Container, demoLmContainer } from '../../local/containers/supervisor.ts';
import { RUNTIME_ERRORS, type RuntimeError, startSageMakerEmulator } from '../../local/sagemaker/emulator.ts';
import { loopbackUrl, testContainer } from '../fixtures/containers.ts';
import { startTestS3, type TestS3 } from '../fixtures/s3.ts';

let s3: TestS3;
let demo: Container;
let broken: Server;
let emulator: Awaited<ReturnType<typeof startSageMakerEmulator>>;
let client: SageMakerRuntimeClient;
let notReady = false;
const faults = new Map<string, RuntimeError>();

/** A container that answers 200 with a few bytes of a stream, then dies. */
function dyingContainer(): Promise<Server> {
  return testContainer((_body, _req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    res.write('data:{"token":{"text":"a"}}\n\n');
    setTimeout(() => res.socket?.destroy(), 50);
  });
}

beforeAll(async () => {
  s3 = await startTestS3('sagemaker-async');
  demo = demoLmContainer('demo-lm');
  await demo.start();
  broken = await dyingContainer();
  const brokenUrl = loopbackUrl(broken);
  emulator = await startSageMakerEmulator({
    port: 0,
    endpoints: new Map([
      ['demo-lm', { url: demo.url, healthy: demo.healthy }],
      ['dying', { url: brokenUrl, healthy: () => true }],
      ['warming', { url: demo.url, healthy: () => !notReady }],
    ]),
    s3: s3.s3,
    asyncOutput: { bucket: s3.bucket, prefix: 'sagemaker-async/' },
    faults,
  });
  client = new SageMakerRuntimeClient({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}, 90_000);

afterAll(async () => {
  client.destroy();
  await emulator.close();
  await demo.stop();
  broken.close();
  await s3.close();
});

const generate = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({ inputs: 'The ', parameters: { max_new_tokens: 12, seed: 7, temperature: 0.8 }, ...extra });

describe('SageMaker Runtime emulator with the AWS SDK', () => {
  it('InvokeEndpoint forwards to the container and answers its body and type', async () => {
    const out = await client.send(
      new InvokeEndpointCommand({
        EndpointName: 'demo-lm',
        Body: generate(),
        ContentType: 'application/json',
        Accept: 'application/json',
      }),
    );
    expect(out.ContentType).toBe('application/json');
    expect(out.InvokedProductionVariant).toBe('AllTraffic');
    const answer = JSON.parse(new TextDecoder().decode(out.Body));
    expect(answer).toEqual([{ generated_text: expect.any(String) }]);
    // TGI repeats the prompt unless told `return_full_text: false` (a text-generation model's default).
    expect(answer[0].generated_text).toMatch(/^The /);
    expect(answer[0].generated_text).toHaveLength('The '.length + 12);
  });

  it('InvokeEndpointWithResponseStream frames the container stream as PayloadPart events', async () => {
    const out = await client.send(
      new InvokeEndpointWithResponseStreamCommand({
        EndpointName: 'demo-lm',
        Body: JSON.stringify({
          inputs: 'The ',
          parameters: { max_new_tokens: 12, seed: 7, temperature: 0.8, details: true },
          stream: true,
        }),
        ContentType: 'application/json',
      }),
    );
    expect(out.ContentType).toBe('text/event-stream');
    let text = '';
    for await (const event of out.Body ?? []) {
      expect(event.PayloadPart?.Bytes).toBeInstanceOf(Uint8Array);
      text += new TextDecoder().decode(event.PayloadPart?.Bytes);
    }
    const events = text
      .split('\n\n')
      .filter(Boolean)
      .map((e) => JSON.parse(e.replace(/^data:/, '')));
    expect(events).toHaveLength(12);
    expect(events.at(-1).details).toMatchObject({ finish_reason: 'length', generated_tokens: 12, seed: 7 });
    // Same seed, same text: sampling is reproducible across operations.
    const plain = await client.send(
      new InvokeEndpointCommand({
        EndpointName: 'demo-lm',
        Body: generate(),
        ContentType: 'application/json',
      }),
    );
    expect(events.at(-1).generated_text).toBe(
      JSON.parse(new TextDecoder().decode(plain.Body))[0].generated_text,
    );
  });

  it('InvokeEndpointAsync reads the input from S3 and writes the output there', async () => {
    await s3.s3.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'in/request.json', Body: generate() }));
    const out = await client.send(
      new InvokeEndpointAsyncCommand({
        EndpointName: 'demo-lm',
        InputLocation: `s3://${s3.bucket}/in/request.json`,
        ContentType: 'application/json',
        InferenceId: 'job-1',
      }),
    );
    expect(out).toMatchObject({
      InferenceId: 'job-1',
      OutputLocation: `s3://${s3.bucket}/sagemaker-async/demo-lm/output/job-1.out`,
      FailureLocation: `s3://${s3.bucket}/sagemaker-async/demo-lm/failure/job-1.out`,
    });
    let body: string | undefined;
    for (let i = 0; i < 100 && body === undefined; i++) {
      body = await s3.s3
        .send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'sagemaker-async/demo-lm/output/job-1.out' }))
        .then((o) => o.Body?.transformToString())
        .catch(() => undefined);
      if (body === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    expect(JSON.parse(body ?? 'null')[0].generated_text).toHaveLength('The '.length + 12);
  });

  it('answers ValidationError for an unknown endpoint and a bad input location', async () => {
    await expect(
      client.send(new InvokeEndpointCommand({ EndpointName: 'nope', Body: '{}' })),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'Endpoint nope of account 000000000000 not found.',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(
      client.send(new InvokeEndpointAsyncCommand({ EndpointName: 'demo-lm', InputLocation: 'https://x/y' })),
    ).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('answers ModelError with the container status and message', async () => {
    const error = await client
      .send(
        new InvokeEndpointCommand({
          EndpointName: 'demo-lm',
          Body: '{"inputs": 3}',
          ContentType: 'application/json',
        }),
      )
      .catch((e) => e);
    expect(error).toMatchObject({
      name: 'ModelError',
      OriginalStatusCode: 422,
      $metadata: { httpStatusCode: 424 },
    });
    expect(error.OriginalMessage).toContain('`inputs` must be a string');
    expect(error.LogStreamArn).toMatch(/^arn:aws:logs:/);
  });

  it('answers ModelNotReadyException while the container is not healthy', async () => {
    notReady = true;
    try {
      await expect(
        client.send(new InvokeEndpointCommand({ EndpointName: 'warming', Body: generate() })),
      ).rejects.toMatchObject({
        name: 'ModelNotReadyException',
        $metadata: { httpStatusCode: 429 },
      });
    } finally {
      notReady = false;
    }
  });

  it.each(['InternalFailure', 'ServiceUnavailable', 'InternalDependencyException'] as const)(
    'answers %s with its status when SageMaker itself fails',
    async (type) => {
      faults.set('demo-lm', type);
      try {
        await expect(
          client.send(new InvokeEndpointCommand({ EndpointName: 'demo-lm', Body: generate() })),
        ).rejects.toMatchObject({
          name: type,
          $metadata: { httpStatusCode: RUNTIME_ERRORS[type] },
        });
      } finally {
        faults.delete('demo-lm');
      }
    },
  );

  it('ends a stream with ModelStreamError when the container dies mid-stream', async () => {
    const out = await client.send(
      new InvokeEndpointWithResponseStreamCommand({
        EndpointName: 'dying',
        Body: generate({ stream: true }),
      }),
    );
    const parts: string[] = [];
    const error = await (async () => {
      for await (const event of out.Body ?? [])
        parts.push(new TextDecoder().decode(event.PayloadPart?.Bytes));
    })().catch((e) => e);
    expect(parts.join('')).toBe('data:{"token":{"text":"a"}}\n\n');
    expect(error).toMatchObject({ name: 'ModelStreamError', ErrorCode: 'ModelStreamError' });
    expect(error.message).toMatch(/Model stream failed/);
  });

  it('restarts a container that dies, and serves again once /ping answers', async () => {
    const before = demo.pid;
    process.kill(before as number, 'SIGKILL');
    // The supervisor sees the exit, then waits before restarting: traffic meanwhile is refused as not ready.
    await vi.waitFor(() => expect(demo.healthy()).toBe(false), { timeout: 5000, interval: 5 });
    await expect(
      client.send(new InvokeEndpointCommand({ EndpointName: 'demo-lm', Body: generate() })),
    ).rejects.toMatchObject({
      name: 'ModelNotReadyException',
    });
    await demo.waitHealthy(60_000);
    expect(demo.pid).not.toBe(before);
    expect(demo.restartCount).toBe(1);
    const out = await client.send(
      new InvokeEndpointCommand({
        EndpointName: 'demo-lm',
        Body: generate(),
        ContentType: 'application/json',
      }),
    );
    expect(JSON.parse(new TextDecoder().decode(out.Body))[0].generated_text).toHaveLength('The '.length + 12);
  }, 90_000);
});
