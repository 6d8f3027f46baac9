/**
 * The large-file batch path on the local topology's S3: the chunk and merge functions called as the Distributed
 * Map calls them (JSONL and CSV chunks out of order, a failed map run), and the hand-over above the threshold.
 */
import { GetObjectCommand, ListObjectsV2Command, S3ServiceException } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeChunks, partsPrefix, scoreChunk } from '../../functions/core/batch/chunks.ts';
import { runBatchJob } from '../../functions/core/batch/job.ts';
import { jobId } from '../../functions/core/batch/manifest.ts';
import { ArtifactStore } from '../../functions/core/registry/artifacts.ts';
import { Registry } from '../../functions/core/registry/store.ts';
import { OnnxRuntime } from '../../functions/core/runners/onnx/runtime.ts';
import { jsonLines, putObject } from '../fixtures/batch.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';
import { parityFixture } from '../fixtures/models.ts';

let api: TestTopology;
let deps: Parameters<typeof scoreChunk>[0];
beforeAll(async () => {
  api = await startTestTopology();
  // The tests run the jobs themselves: the topology's queue must not score the inputs they drop, racing them.
  api.batchQueue.close();
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

/** An iris CSV record as Step Functions' CSV reader hands it: keyed by the header, fields past it dropped. */
const irisItem = (id: string, ...values: string[]) => ({
  id,
  ...Object.fromEntries(
    ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name, i) => [name, values[i] ?? '']),
  ),
});
const IRIS_HEADER = 'id,sepal_length,sepal_width,petal_length,petal_width';

/** Scores one iris record as a CSV job's only item batch; answers the merge event for that job. */
async function scoreOneIrisItem(inputKey: string) {
  const id = jobId(inputKey);
  await scoreChunk(deps, {
    BatchInput: { jobId: id, inputKey, format: 'csv' },
    Items: items([irisItem('a', '5.1', '3.5', '1.4', '0.2')]),
  });
  return { jobId: id, inputKey, startedAt: new Date().toISOString() };
}

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
    const lines = jsonLines(await read('batch/output/diabetes/huge.jsonl.jsonl'));
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
    await putObject(api, inputKey, `${IRIS_HEADER}\nx,5.1,3.5,1.4,0.2\nx,6.7,3.1,n/a,2.4\n`);
    await scoreChunk(deps, {
      BatchInput: { jobId: id, inputKey, format: 'csv' },
      Items: items([irisItem('x', '5.1', '3.5', '1.4', '0.2'), irisItem('x', '6.7', '3.1', 'n/a', '2.4')]),
    });
    const manifest = await mergeChunks(deps, { jobId: id, inputKey, startedAt: new Date().toISOString() });
    expect(manifest).toMatchObject({ status: 'completed_with_errors', rows: 2, failed: 1 });
    const lines = jsonLines(await read('batch/output/iris/huge.csv.jsonl'));
    expect(lines).toEqual([
      expect.objectContaining({ line: 2, prediction: 'setosa' }),
      { line: 3, error: `column 'petal_length' is "n/a": expected a number` },
    ]);
  });

  it('answers a CSV record with a field too many (dropped by the reader) with the whole-file error, counted failed once', async () => {
    const inputKey = 'batch/input/iris/extra.csv';
    const id = jobId(inputKey);
    // A quoted field holding a comma and a line break, a blank line, CRLF: none of them a field too many.
    const csv = [
      IRIS_HEADER,
      'a,5.1,3.5,1.4,0.2',
      '"b, with a comma\nand a line break",6.7,3.1,5.6,2.4\r',
      '',
      'c,5.0,3.4,1.5,0.2,7.7',
      'd,x,5.1,3.5,1.4,0.2',
      'e,6.3,2.9,5.6,1.8',
      'f,6.3,2.9',
    ].join('\n');
    const { ETag } = await putObject(api, inputKey, `${csv}\n`);
    const BatchInput = { jobId: id, inputKey, format: 'csv' as const };
    // What Step Functions hands over: no item for the blank line; 'c' and 'd' without their last field, 'f' padded.
    await scoreChunk(deps, {
      BatchInput,
      Items: items(
        [
          irisItem('d', 'x', '5.1', '3.5', '1.4'),
          irisItem('e', '6.3', '2.9', '5.6', '1.8'),
          irisItem('f', '6.3', '2.9'),
        ],
        3,
      ),
    });
    const first = await scoreChunk(deps, {
      BatchInput,
      Items: items([
        irisItem('a', '5.1', '3.5', '1.4', '0.2'),
        irisItem('b, with a comma\nand a line break', '6.7', '3.1', '5.6', '2.4'),
        irisItem('c', '5.0', '3.4', '1.5', '0.2'),
      ]),
    });
    // The chunk alone cannot tell: it scores 'c' on its first fields.
    expect(first.failed).toBe(0);
    // The execution input's eTag (unquoted, as the batch function records it): that version is read.
    const eTag = ETag?.replaceAll('"', '');
    const manifest = await mergeChunks(deps, {
      jobId: id,
      inputKey,
      eTag,
      startedAt: new Date().toISOString(),
    });
    expect(manifest).toMatchObject({ status: 'completed_with_errors', rows: 6, succeeded: 3, failed: 3 });
    const lines = jsonLines(await read('batch/output/iris/extra.csv.jsonl'));
    expect(lines).toEqual([
      expect.objectContaining({ line: 2, prediction: 'setosa' }),
      expect.objectContaining({ line: 3, prediction: 'virginica' }),
      { line: 4, error: '6 fields; the header has 5' },
      { line: 5, error: '6 fields; the header has 5' },
      expect.objectContaining({ line: 6, prediction: 'virginica' }),
      // A short record: the chunk refused its padded "" field; the merge names the count, as the whole-file path does.
      { line: 7, error: '3 fields; the header has 5' },
    ]);
  });

  it('fails a CSV job whose input is gone or replaced before the merge, or whose records are not the map’s items', async () => {
    expect(await mergeChunks(deps, await scoreOneIrisItem('batch/input/iris/gone.csv'))).toMatchObject({
      status: 'failed',
      rows: 1,
      error: "the input was removed before its records' field counts could be checked",
    });
    const replaced = 'batch/input/iris/replaced.csv';
    await putObject(api, replaced, `${IRIS_HEADER}\na,5.1,3.5,1.4,0.2\n`);
    const merge = await scoreOneIrisItem(replaced);
    // s3rver ignores If-Match on GET: S3's answer to another version (412) is given here instead.
    api.s3.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Key?: string; IfMatch?: string };
        if (input.Key !== replaced || !input.IfMatch) return next(args);
        throw new S3ServiceException({
          name: 'PreconditionFailed',
          $fault: 'client',
          $metadata: { httpStatusCode: 412 },
          message: 'At least one of the pre-conditions you specified did not hold',
        });
      },
      { step: 'initialize', name: 'preconditionFailed' },
    );
    try {
      expect(await mergeChunks(deps, { ...merge, eTag: '0123456789abcdef0123456789abcdef' })).toMatchObject({
        status: 'failed',
        error: "the input was replaced before its records' field counts could be checked",
      });
    } finally {
      api.s3.middlewareStack.remove('preconditionFailed');
    }
    const other = 'batch/input/iris/other.csv';
    await putObject(api, other, `${IRIS_HEADER}\na,5.1,3.5,1.4,0.2\nb,5.1,3.5,1.4,0.2\n`);
    expect(await mergeChunks(deps, await scoreOneIrisItem(other))).toMatchObject({
      status: 'failed',
      error:
        "the input has 2 records after the header but the map read 1 item: the records' field counts could not be matched to their rows",
    });
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
    await putObject(api, key, '[1]\n[2]\n[3]\n[4]\n');
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
