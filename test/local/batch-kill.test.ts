/**
 * The batch function SIGKILLed mid-file in a process of its own over a real s3rver: nothing is left under the
 * output key, and the redelivered message then completes the million-row job exactly once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishModel } from '../../cli/registry/publish.ts';
import { isMissingKey } from '../../functions/core/s3.ts';
import { S3RVER_CREDENTIALS } from '../../local/s3.ts';
import { sampleModelBytes } from '../fixtures/models.ts';
import { startTestS3, type TestS3 } from '../fixtures/s3.ts';

const ROWS = 1_000_000;
const KEY = 'batch/input/linear/killed.jsonl.gz';
const OUTPUT = 'batch/output/linear/killed.jsonl.gz.jsonl';
const MANIFEST = 'batch/output/linear/killed.jsonl.gz.manifest.json';

let t: TestS3;
let cacheDir: string;
beforeAll(async () => {
  t = await startTestS3('killed-batches');
  cacheDir = join(t.dir, 'cache');
  await publishModel(t.s3, t.bucket, { name: 'linear', bytes: sampleModelBytes('linear') });
  // A million rows that gzip to a few kilobytes: quick to upload, seconds to score.
  const rows = Array.from({ length: ROWS }, (_, i) => `[${i % 10}]`).join('\n');
  await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: KEY, Body: gzipSync(`${rows}\n`) }));
});
afterAll(() => t.close());

/** The SQS message S3's notification puts on the batch queue, as the batch function receives it. */
function sqsEvent(receiveCount: number) {
  const notification = { Records: [{ eventName: 'ObjectCreated:Put', s3: { object: { key: KEY } } }] };
  return {
    Records: [
      {
        messageId: 'killed-job',
        receiptHandle: `killed-job#${receiveCount}`,
        body: JSON.stringify(notification),
        attributes: { ApproximateReceiveCount: String(receiveCount) },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:local:000000000000:modelgate-batch',
        awsRegion: 'local',
      },
    ],
  };
}

/** The batch function in a process of its own, on the test's S3. */
function batchProcess(receiveCount: number): ChildProcess {
  return spawn(
    join(import.meta.dirname, '../../node_modules/.bin/tsx'),
    [join(import.meta.dirname, '../fixtures/batch-process.ts'), JSON.stringify(sqsEvent(receiveCount))],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        MODELGATE_MODEL_BUCKET: t.bucket,
        MODELGATE_S3_ENDPOINT: t.store.url,
        MODELGATE_CACHE_DIR: cacheDir,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
        POWERTOOLS_METRICS_DISABLED: 'true',
        POWERTOOLS_TRACE_ENABLED: 'false',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    },
  );
}

async function read(key: string): Promise<string | undefined> {
  try {
    const object = await t.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
    return await object.Body?.transformToString();
  } catch (error) {
    // Not there yet: S3 says so with 404, or 403 to a caller that may not list batch/output/.
    if (await isMissingKey(t, key, error)) return undefined;
    throw error;
  }
}

describe('the batch function killed mid-file, for real', () => {
  it('leaves nothing under the output key, and the redelivered message completes the job exactly once', async () => {
    // First delivery: SIGKILL once the job is scoring (its manifest says running and the
    // model is in the function's cache: the rows come next, and take seconds).
    const first = batchProcess(1);
    const exited = once(first, 'exit');
    for (;;) {
      const manifest = await read(MANIFEST);
      const loaded = existsSync(cacheDir) && readdirSync(cacheDir).some((f) => f.endsWith('.onnx'));
      if (manifest && JSON.parse(manifest).status === 'running' && loaded) break;
      if (first.exitCode !== null) throw new Error('the batch process ended before it started the job');
      await new Promise((r) => setTimeout(r, 20));
    }
    first.kill('SIGKILL');
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
    expect(await read(OUTPUT)).toBeUndefined();
    expect(JSON.parse((await read(MANIFEST)) as string).status).toBe('running');

    // Redelivery after the visibility timeout: a fresh process runs the same message.
    const second = batchProcess(2);
    let answer = '';
    second.stdout?.on('data', (chunk) => {
      answer += chunk;
    });
    const [secondCode] = await once(second, 'exit');
    expect(secondCode).toBe(0);
    expect(JSON.parse(answer)).toEqual({ batchItemFailures: [] });

    const lines = ((await read(OUTPUT)) as string).trimEnd().split('\n');
    expect(lines).toHaveLength(ROWS);
    lines.forEach((text, i) => {
      const row = JSON.parse(text);
      if (row.line !== i + 1 || typeof row.prediction !== 'number') {
        throw new Error(`output line ${i + 1} is ${text}`);
      }
    });
    expect(JSON.parse((await read(MANIFEST)) as string)).toMatchObject({
      status: 'succeeded',
      rows: ROWS,
      succeeded: ROWS,
      failed: 0,
    });
  }, 120_000);
});
