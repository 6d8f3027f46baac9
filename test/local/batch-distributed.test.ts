/**
 * The large-file batch path on the local topology's S3: the chunk and merge functions called as the Distributed
 * Map calls them (JSONL and CSV chunks out of order, a failed map run), and the hand-over above the threshold.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeChunks, partsPrefix, scoreChunk } from '../../functions/core/batch/chunks.ts';
import { runBatchJob } from '../../functions/core/batch/job.ts';
import { jobId } from '../../functions/core/batch/manifest.ts';
import { ArtifactStore } from '../../functions/core/registry/artifacts.ts';
import { Registry } from '../../functions/core/registry/store.ts';
import { OnnxRuntime } from '../../functions/core/runners/onnx/runtime.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';
import { parityFixture } from '../fixtures/models.ts';

let api: TestTopology;
let deps: Parameters<typeof scoreChunk>[0];
beforeAll(async () => {
  api = await startTestTopology();
  const runtime = new OnnxRuntime({
    artifacts: new ArtifactStore({ s3: api.s3, bucket: api.bucket, cacheDir: `${api.home}/chunk-cache` }),
    maxCacheBytes: 1 << 26,
  });
  deps = {
    s3: api.s3,
    bucket: api.bucket,
    registry: new Registry({ s3: api.s3, bucket: api.bucket, ttlSeconds: 0 }),
    runnerFor: (m) => runtime.runner(m),
  };
});
afterAll(() => api.close());

const read = async (key: string) =>
  (await api.s3
    .send(new GetObjectCommand({ Bucket: api.bucket, Key: key }))
    .then((o) => o.Body?.transformToString())) ?? '';

/** Items as the Distributed Map's ItemSelector shapes them: `{index, value}`. */
const items = (values: unknown[], from = 0) => values.map((value, i) => ({ index: from + i, value }));

describe('the Distributed Map path, chunk and merge functions on loopback S3', () => {
  it('scores JSONL batches in any order and merges them back in input order, as scikit-learn predicts', async () => {
    const fixture = parityFixture('diabetes');
    const inputKey = 'batch/input/diabetes/huge.jsonl';
    const id = jobId(inputKey);
    const batchInput = { jobId: id, inputKey, format: 'jsonl' as const };
    // Step Functions runs item batches concurrently: finish them out of order.
    await scoreChunk(deps, { BatchInput: batchInput, Items: items(fixture.instances.slice(200), 200) });
    await scoreChunk(deps, { BatchInput: batchInput, Items: items(fixture.instances.slice(0, 200)) });
    const manifest = await mergeChunks(deps, { jobId: id, inputKey, startedAt: new Date().toISOString() });
    expect(manifest).toMatchObject({
      status: 'succeeded',
      rows: 442,
      succeeded: 442,
      model: 'diabetes',
      version: '1',
    });
    const lines = (await read('batch/output/diabetes/huge.jsonl.jsonl'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.line)).toEqual(fixture.instances.map((_, i) => i + 1));
    lines.forEach((l, i) => {
      expect(l.prediction).toBeCloseTo(fixture.predictions[i] as number, 3);
    });
    const left = await api.s3.send(new ListObjectsV2Command({ Bucket: api.bucket, Prefix: partsPrefix(id) }));
    expect(left.Contents ?? []).toEqual([]);
  });

  it('maps CSV items (objects keyed by the header) by feature name, with per-row errors and CSV line numbers', async () => {
    const inputKey = 'batch/input/iris/huge.csv';
    const id = jobId(inputKey);
    const row = (sl: string, sw: string, pl: string, pw: string) => ({
      id: 'x',
      sepal_length: sl,
      sepal_width: sw,
      petal_length: pl,
      petal_width: pw,
    });
    await scoreChunk(deps, {
      BatchInput: { jobId: id, inputKey, format: 'csv' },
      Items: items([row('5.1', '3.5', '1.4', '0.2'), row('6.7', '3.1', 'n/a', '2.4')]),
    });
    const manifest = await mergeChunks(deps, { jobId: id, inputKey, startedAt: new Date().toISOString() });
    expect(manifest).toMatchObject({ status: 'completed_with_errors', rows: 2, failed: 1 });
    const lines = (await read('batch/output/iris/huge.csv.jsonl'))
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      expect.objectContaining({ line: 2, prediction: 'setosa' }),
      { line: 3, error: `column 'petal_length' is "n/a": expected a number` },
    ]);
  });

  it('records a failed map run in the manifest, keeping the rows scored before it', async () => {
    const inputKey = 'batch/input/linear/broken.jsonl';
    const id = jobId(inputKey);
    await scoreChunk(deps, {
      BatchInput: { jobId: id, inputKey, format: 'jsonl' },
      Items: items([[1], [2]]),
    });
    const manifest = await mergeChunks(deps, {
      jobId: id,
      inputKey,
      startedAt: new Date().toISOString(),
      error: { Error: 'States.ItemReaderFailed', Cause: 'line 3 is not JSON' },
    });
    expect(manifest).toMatchObject({
      status: 'failed',
      rows: 2,
      error: 'the distributed run failed: States.ItemReaderFailed: line 3 is not JSON',
    });
  });

  it('hands files over the threshold to the distributed run once, and says so in the manifest', async () => {
    const started: unknown[] = [];
    const largeFiles = { thresholdBytes: 10, start: async (input: unknown) => void started.push(input) };
    const key = 'batch/input/linear/big.jsonl';
    // This test runs the job itself: the topology's queue must not race it.
    api.batchQueue.close();
    await api.s3.send(new PutObjectCommand({ Bucket: api.bucket, Key: key, Body: '[1]\n[2]\n[3]\n[4]\n' }));
    const first = await runBatchJob({ ...deps, largeFiles }, { key });
    expect(first).toMatchObject({ status: 'running', mode: 'distributed' });
    expect(started).toEqual([
      {
        jobId: jobId(key),
        inputKey: key,
        eTag: expect.any(String),
        size: 16,
        format: 'jsonl',
        startedAt: expect.any(String),
      },
    ]);
    await runBatchJob({ ...deps, largeFiles }, { key });
    expect(started).toHaveLength(1);
    const small = await runBatchJob(
      { ...deps, largeFiles: { ...largeFiles, thresholdBytes: 1e9 } },
      { key: 'batch/input/linear/big.jsonl' },
    );
    expect(small?.mode).toBe('distributed');
  });
});
