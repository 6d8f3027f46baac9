/**
 * Every function as `cdk deploy` ships it: each asset of a real `cdk synth` runs on linux/arm64
 * with the Node.js major of its Lambda runtime (qemu user-mode emulation), gets the events its
 * trigger sends, and must answer exactly as the handler source does in local mode.
 * Needs root, qemu and the cache of test/arm64/setup.sh; see docs/ARM64.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { jobId } from '../../functions/core/batch/manifest.ts';
import type { TestDynamo } from '../fixtures/dynamodb.ts';
import { sqsS3Event } from '../fixtures/events.ts';
import type { TestS3 } from '../fixtures/s3.ts';
import { type DeployedFunction, deployedFunctions, FUNCTIONS, type FunctionName, synth } from './assets.ts';
import { comparable, withinTolerance } from './compare.ts';
import {
  API_EVENTS,
  AUTHORIZER_EVENTS,
  BATCH_FILES,
  CHAT_EVENTS,
  chunkEvents,
  csvChunkEvents,
  DISTRIBUTED_FILES,
  failedRunEvents,
  SUBMITTED_FILES,
} from './events.ts';
import { type FunctionProcess, handlerModule, keepLogs, startArm64, startSource } from './lambda.ts';
import { missingPrerequisites, REQUIRED } from './prerequisites.ts';
import {
  BUCKET,
  type LanguageModels,
  loopbackEnvironment,
  readObject,
  startLanguageModels,
  startSeededS3,
  startUsageTable,
  USAGE_TABLE,
} from './services.ts';

const outdir = mkdtempSync(join(tmpdir(), 'modelgate-arm64-'));
let functions: DeployedFunction[] = [];
let missing: string[] = [];
let models: LanguageModels | undefined;
/** One usage table per side, like the buckets. */
const usage: { arm64?: TestDynamo; source?: TestDynamo } = {};
const stores: { arm64?: TestS3; source?: TestS3 } = {};
const running = new Map<FunctionName, Promise<Pair>>();

beforeAll(async () => {
  await synth(outdir);
  functions = deployedFunctions(outdir);
  missing = missingPrerequisites(functions[0]?.nodeMajor ?? 0);
  if (missing.length > 0) {
    const why = `arm64 assets cannot run here: ${missing.join('; ')}`;
    if (REQUIRED) throw new Error(`${why} (MODELGATE_ARM64=required)`);
    console.warn(`${why}. The arm64 tests are skipped.`);
    return;
  }
  [models, usage.arm64, usage.source, stores.arm64, stores.source] = await Promise.all([
    startLanguageModels(),
    startUsageTable(),
    startUsageTable(),
    startSeededS3(),
    startSeededS3(),
  ]);
  for (const store of [stores.arm64, stores.source]) {
    for (const [key, body] of Object.entries({ ...BATCH_FILES, ...SUBMITTED_FILES, ...DISTRIBUTED_FILES })) {
      await store.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    }
  }
});

afterAll(async () => {
  const pairs = await Promise.allSettled(running.values());
  // MODELGATE_ARM64_LOGS=<folder> keeps what each function logged, per side.
  for (const p of pairs) {
    if (p.status === 'fulfilled') keepLogs(process.env.MODELGATE_ARM64_LOGS, p.value.fn.name, p.value);
  }
  await Promise.all(
    pairs.flatMap((p) => (p.status === 'fulfilled' ? [p.value.arm64.close(), p.value.source.close()] : [])),
  );
  await models?.close();
  await Promise.all([usage.arm64?.close(), usage.source?.close()]);
  await Promise.all([stores.arm64?.close(), stores.source?.close()]);
  rmSync(outdir, { recursive: true, force: true });
});

/** The same function as deployed (arm64) and as local mode runs it (source), side by side. */
interface Pair {
  readonly fn: DeployedFunction;
  readonly arm64: FunctionProcess;
  readonly source: FunctionProcess;
}

function deployed(name: FunctionName): DeployedFunction {
  const fn = functions.find((f) => f.name === name);
  if (!fn) throw new Error(`the template has no ${name} function (${FUNCTIONS[name].prefix}…)`);
  return fn;
}

/** One execution environment per side and function, started once and kept for the file. */
function pair(name: FunctionName): Promise<Pair> {
  let started = running.get(name);
  if (!started) {
    const fn = deployed(name);
    const arm64 = stores.arm64 as TestS3;
    const source = stores.source as TestS3;
    const sagemaker = models?.url as string;
    started = Promise.all([
      startArm64(
        fn,
        loopbackEnvironment(fn, arm64, { sagemaker, dynamodb: usage.arm64?.server.url as string }),
      ),
      startSource(
        fn,
        loopbackEnvironment(fn, source, { sagemaker, dynamodb: usage.source?.server.url as string }),
      ),
    ]).then(([a, s]) => {
      // Each function runs on the Node.js major of its Lambda runtime in the template.
      if (!a.init.node.startsWith(`v${fn.nodeMajor}.`)) {
        throw new Error(`${name} ran on Node.js ${a.init.node}; its runtime is ${fn.runtime}`);
      }
      return { fn, arm64: a, source: s };
    });
    running.set(name, started);
  }
  return started;
}

/** Sends `event` to both sides; they must both answer, and equally. Returns the arm64 answer. */
async function both(name: FunctionName, event: unknown, label = ''): Promise<unknown> {
  const { arm64, source } = await pair(name);
  const [a, s] = await Promise.all([arm64.invoke(event), source.invoke(event)]);
  if (a.error)
    throw new Error(`${name} on arm64 threw ${a.error.name}: ${a.error.message}\n${arm64.output()}`);
  if (s.error) throw new Error(`${name} from source threw ${s.error.name}: ${s.error.message}`);
  const local = comparable(s.result);
  expect(
    withinTolerance(comparable(a.result), local),
    `${name} ${label}: the arm64 asset answers as local mode`,
  ).toEqual(local);
  return comparable(a.result);
}

/** Skips with the reason when this machine cannot run arm64 assets (never under REQUIRED). */
function unavailable(ctx: TestContext): boolean {
  if (missing.length > 0) ctx.skip(`arm64 assets cannot run here: ${missing.join('; ')}`);
  return missing.length > 0;
}

/** The same object on both sides, equal up to float rounding. */
async function sameObject(key: string): Promise<unknown> {
  const [deployed, local] = await Promise.all(
    [stores.arm64, stores.source].map((store) => readObject(store, key).then(comparable)),
  );
  expect(local, `${key} is written`).toBeDefined();
  expect(withinTolerance(deployed, local), key).toEqual(local);
  return deployed;
}

describe('every function asset, run as deployed (linux/arm64, the Lambda runtime’s Node.js)', () => {
  it('the template deploys the six functions on arm64 with one Node.js runtime, each Handler a module of its asset', () => {
    expect(functions.map((f) => f.name).sort()).toEqual(Object.keys(FUNCTIONS).sort());
    for (const fn of functions) {
      expect(fn.architectures, fn.logicalId).toEqual(['arm64']);
      expect(fn.runtime, fn.logicalId).toBe(functions[0]?.runtime);
      expect(handlerModule(fn).file, fn.logicalId).toMatch(/\/index\.m?js$/);
    }
  });

  it('api: REST proxy events for every kind of route answer as in local mode', async (ctx) => {
    if (unavailable(ctx)) return;
    const { fn, arm64 } = await pair('api');
    expect(arm64.init.node).toMatch(new RegExp(`^v${fn.nodeMajor}\\.`));
    const answers: Record<string, unknown> = {};
    for (const [label, event] of Object.entries(API_EVENTS)) answers[label] = await both('api', event, label);
    expect(answers['predict iris']).toMatchObject({
      statusCode: 200,
      body: { predictions: ['setosa', 'virginica'], model_name: 'iris', model_version: '1' },
    });
    expect(answers.ready).toMatchObject({ statusCode: 200 });
    expect(answers['infer bad shape']).toMatchObject({
      statusCode: 400,
      body: { error: expect.stringContaining('expects [-1,4]') },
    });
    expect(answers['batch submit']).toMatchObject({
      statusCode: 202,
      body: { id: '<generated id>', status: 'queued', model: 'iris' },
    });
    expect(answers['batch status, unknown id']).toMatchObject({ statusCode: 404 });
    // One EMF record per request and no Powertools warning beside it (each line is paid for).
    expect(arm64.output()).not.toMatch(/EMF key|defined as both|dimension set/);
    expect(arm64.output().match(/"CloudWatchMetrics"/g)?.length).toBeGreaterThan(0);
    // Usage is written to the table after the answers, as many items as from the source.
    const items = (side: TestDynamo | undefined) =>
      side?.client.send(new ScanCommand({ TableName: USAGE_TABLE })).then((r) => r.Count ?? 0);
    await expect.poll(() => items(usage.arm64), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect
      .poll(async () => ((await items(usage.arm64)) ?? 0) - ((await items(usage.source)) ?? 0), {
        timeout: 30_000,
      })
      .toBe(0);
  });

  it('authorizer: REQUEST events with x-api-key, a bearer token and no key', async (ctx) => {
    if (unavailable(ctx)) return;
    const answers = [];
    for (const [label, event] of Object.entries(AUTHORIZER_EVENTS))
      answers.push(await both('authorizer', event, label));
    expect(answers.map((a) => (a as { usageIdentifierKey?: string }).usageIdentifierKey)).toEqual([
      'mg-key-1',
      'mg-key-2',
      undefined,
    ]);
  });

  it('chat: streamed and whole OpenAI answers through the response-streaming runtime', async (ctx) => {
    if (unavailable(ctx)) return;
    const answers: Record<string, unknown> = {};
    for (const [label, event] of Object.entries(CHAT_EVENTS))
      answers[label] = await both('chat', event, label);
    expect(answers['chat whole']).toMatchObject({
      prelude: { statusCode: 200 },
      body: { object: 'chat.completion', choices: [{ finish_reason: 'length' }] },
    });
    expect(answers['chat streamed']).toMatchObject({
      prelude: { statusCode: 200, headers: { 'Content-Type': 'text/event-stream' } },
    });
    expect((answers['chat streamed'] as { body: unknown[] }).body.at(-1)).toBe('[DONE]');
    expect(answers['unknown model']).toMatchObject({ prelude: { statusCode: 404 } });
  });

  it('batch: SQS messages carrying S3 notifications score the files, with the same outputs and manifests', async (ctx) => {
    if (unavailable(ctx)) return;
    for (const key of Object.keys(BATCH_FILES)) {
      const [onArm64, onSource] = await Promise.all(
        [stores.arm64, stores.source].map((store) =>
          store?.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key })),
        ),
      );
      expect(onArm64?.ETag).toBe(onSource?.ETag);
      const eTag = (onArm64?.ETag ?? '').replaceAll('"', '');
      const event = sqsS3Event(BUCKET, { key, eTag, size: onArm64?.ContentLength ?? 0 });
      expect(await both('batch', event, key)).toEqual({ batchItemFailures: [] });
      const output = key.replace('batch/input/', 'batch/output/');
      const lines = (await sameObject(`${output}.jsonl`)) as unknown[];
      expect(lines.length).toBeGreaterThan(0);
      await sameObject(`${output}.manifest.json`);
      if (key.endsWith('.csv')) {
        expect(lines).toEqual([
          expect.objectContaining({ line: 2, prediction: 'setosa' }),
          { line: 3, error: `column 'petal_length' is "n/a": expected a number` },
          expect.objectContaining({ line: 4, prediction: 'virginica' }),
          { line: 5, error: '6 fields; the header has 5' },
        ]);
      }
    }
  });

  it('batch chunk and merge: JSON Lines item batches of the Distributed Map, then the merge step', async (ctx) => {
    if (unavailable(ctx)) return;
    const inputKey = 'batch/input/diabetes/huge.jsonl';
    const { chunks, merge } = chunkEvents(inputKey, jobId(inputKey));
    for (const [i, event] of chunks.entries()) await both('chunk', event, `chunk ${i}`);
    const manifest = await both('merge', merge, 'merge');
    expect(manifest).toMatchObject({ status: 'succeeded', rows: 6, succeeded: 6, model: 'diabetes' });
    expect(await sameObject('batch/output/diabetes/huge.jsonl.jsonl')).toHaveLength(6);
  });

  it('batch chunk and merge: CSV item batches keyed by the header, and a map run that failed', async (ctx) => {
    if (unavailable(ctx)) return;
    const csvKey = 'batch/input/iris/huge.csv';
    const csv = csvChunkEvents(csvKey, jobId(csvKey));
    for (const [i, event] of csv.chunks.entries()) await both('chunk', event, `csv chunk ${i}`);
    expect(await both('merge', csv.merge, 'csv merge')).toMatchObject({
      status: 'completed_with_errors',
      rows: 5,
      failed: 3,
    });
    expect(await sameObject('batch/output/iris/huge.csv.jsonl')).toEqual([
      expect.objectContaining({ line: 2, prediction: 'setosa' }),
      { line: 3, error: `column 'petal_length' is "n/a": expected a number` },
      { line: 4, error: '3 fields; the header has 5' },
      expect.objectContaining({ line: 5, prediction: 'virginica' }),
      { line: 6, error: '6 fields; the header has 5' },
    ]);
    const brokenKey = 'batch/input/linear/broken.jsonl';
    const failed = failedRunEvents(brokenKey, jobId(brokenKey));
    for (const event of failed.chunks) await both('chunk', event, 'chunk before the failure');
    expect(await both('merge', failed.merge, 'merge after the failure')).toMatchObject({
      status: 'failed',
      rows: 2,
      error: 'the distributed run failed: States.ItemReaderFailed: line 3 is not JSON',
    });
  });
});
