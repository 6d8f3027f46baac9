/**
 * Batch faults injected for real: a model failing on one micro-batch, and an input stream broken mid-file,
 * each driven through the real batch handler over the local topology's S3.
 */
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatchHandler } from '../../functions/batch/app.ts';
import { ArtifactStore } from '../../functions/core/registry/artifacts.ts';
import { Registry } from '../../functions/core/registry/store.ts';
import { OnnxRuntime } from '../../functions/core/runners/onnx/runtime.ts';
import type { ModelRunner } from '../../functions/core/runners/runner.ts';
import { createTelemetry } from '../../functions/core/telemetry.ts';
import { LocalQueue } from '../../local/queue.ts';
import { localS3Client } from '../../local/s3.ts';
import { jsonLines, objectText, putObject } from '../fixtures/batch.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

let api: TestTopology;
beforeAll(async () => {
  api = await startTestTopology();
});
afterAll(() => api.close());

describe('batch faults, injected', () => {
  // These tests drive handlers of their own: the topology's queue must not race them to the same files.
  beforeAll(() => api.batchQueue.close());

  it('gives errors to the rows of a micro-batch the model fails on, and only those', async () => {
    const { handler } = handlerWith(
      (runner) => ({
        ...runner,
        ready: true,
        load: () => runner.load(),
        infer: async (inputs, outputs) => {
          if ((inputs[0]?.shape[0] ?? 0) === 3 && (inputs[0]?.data as Float32Array | undefined)?.[0] === 9)
            throw new Error('out of memory');
          return runner.infer(inputs, outputs);
        },
      }),
      3,
    );
    await putObject(api, 'batch/input/linear/faulty.jsonl', '[1]\n[2]\n[3]\n[9]\n[9]\n[9]\n[4]\n');
    await handler(s3Event('batch/input/linear/faulty.jsonl'));
    const lines = jsonLines(
      (await objectText(api.s3, api.bucket, 'batch/output/linear/faulty.jsonl.jsonl')) ?? '',
    );
    expect(lines.map((l) => ('error' in l ? 'error' : 'ok'))).toEqual([
      'ok',
      'ok',
      'ok',
      'error',
      'error',
      'error',
      'ok',
    ]);
    expect(lines[3].error).toBe('the model failed on this micro-batch of 3 rows: out of memory');
  });

  it('retries a job whose input stream broke mid-file and completes it exactly once', async () => {
    const key = 'batch/input/linear/crash.jsonl';
    const s3 = localS3Client(api.s3Url, { maxAttempts: 1 });
    let breaks = 1;
    // The first read of the input dies after its first bytes, as a reset connection or a killed process would.
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        const input = args.input as { Key?: string };
        if (context.commandName === 'GetObjectCommand' && input.Key === key && breaks-- > 0) {
          const body = (result.output as { Body: Readable }).Body;
          let reads = 0;
          const broken = new Readable({
            read() {
              if (reads++ === 0) this.push(Buffer.from('[1]\n[2]\n'));
              else this.destroy(new Error('ECONNRESET: connection reset by peer'));
            },
          });
          body.destroy();
          (result.output as { Body: Readable }).Body = broken;
        }
        return result;
      },
      { step: 'deserialize', name: 'breakInputStream' },
    );
    const { handler } = handlerWith((runner) => runner, 2, s3);
    const queue = new LocalQueue({ visibilityTimeoutMs: 20, maxReceiveCount: 3, handler });
    await putObject(api, key, '[1]\n[2]\n[3]\n[4]\n[5]\n[6]\n');
    queue.send(JSON.stringify({ Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key } } }] }));
    await queue.drained();
    queue.close();
    s3.destroy();
    expect(breaks).toBe(-1);
    expect(queue.deadLetters).toEqual([]);
    const lines = jsonLines(
      (await objectText(api.s3, api.bucket, 'batch/output/linear/crash.jsonl.jsonl')) ?? '',
    );
    expect(lines.map((l) => l.line)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(lines.every((l) => typeof l.prediction === 'number')).toBe(true);
    const manifest = JSON.parse(
      (await objectText(api.s3, api.bucket, 'batch/output/linear/crash.jsonl.manifest.json')) ?? 'null',
    );
    expect(manifest).toMatchObject({ status: 'succeeded', rows: 6, succeeded: 6 });
  });
});

/** The real batch handler over the topology's S3, with a runner wrapper that injects a fault. */
function handlerWith(
  wrap: (runner: ModelRunner) => ModelRunner,
  microBatchRows: number,
  s3: S3Client = api.s3,
) {
  const runtime = new OnnxRuntime({
    artifacts: new ArtifactStore({ s3, bucket: api.bucket, cacheDir: `${api.home}/fault-cache` }),
    maxCacheBytes: 1 << 26,
  });
  const handler = createBatchHandler({
    s3,
    bucket: api.bucket,
    registry: new Registry({ s3, bucket: api.bucket, ttlSeconds: 0 }),
    runnerFor: (manifest) => wrap(runtime.runner(manifest)),
    microBatchRows,
    telemetry: createTelemetry('modelgate-batch-test'),
  });
  return { handler, runtime };
}

function s3Event(key: string) {
  const body = {
    Records: [
      {
        eventName: 'ObjectCreated:Put',
        s3: { object: { key: encodeURIComponent(key).replace(/%2F/g, '/') } },
      },
    ],
  };
  return {
    Records: [{ messageId: `m-${key}`, body: JSON.stringify(body), attributes: {}, eventSource: 'aws:sqs' }],
  } as never;
}
