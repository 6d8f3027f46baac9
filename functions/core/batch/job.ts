import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { NotFoundError } from '../errors.ts';
import type { Manifest, TensorSpec } from '../manifest.ts';
import type { Registry } from '../registry.ts';
import type { ModelRunner } from '../runners/runner.ts';
import type { SageMakerRunner } from '../runners/sagemaker.ts';
import { isNotFound } from '../s3.ts';
import { runChatBatch } from './chat.ts';
import { isGzipError, LineCursor, objectBlocks, objectWriter, putJson } from './io.ts';
import { type BatchTarget, batchTarget, isRejected } from './layout.ts';
import {
  batchInput,
  type CsvLayout,
  csvColumns,
  parseCsvInto,
  parseCsvRow,
  parseJsonArrayInto,
  parseJsonRow,
} from './rows.ts';
import { MicroBatch } from './score.ts';

export type BatchStatus = 'running' | 'succeeded' | 'completed_with_errors' | 'empty' | 'failed';

/** `batch/output/<model>/<file>.manifest.json`: what a job read, what it wrote, how it went. */
export interface BatchManifest {
  readonly id: string;
  readonly status: BatchStatus;
  readonly input: {
    readonly key: string;
    readonly eTag: string | undefined;
    readonly size: number | undefined;
  };
  readonly output?: string;
  readonly model?: string;
  readonly version?: string;
  readonly rows: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly blankLines: number;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly durationMs?: number;
  readonly rowsPerSecond?: number;
  /** Time spent in the model, for telling model time from parsing and I/O. */
  readonly modelMs?: number;
  /** `distributed` when a Step Functions Distributed Map scores the file. */
  readonly mode?: 'single' | 'distributed';
  readonly error?: string;
}

export interface BatchDependencies {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly registry: Registry;
  /** The runner of a resolved model version. */
  readonly runnerFor: (manifest: Manifest) => ModelRunner;
  /** Rows per model run. */
  readonly microBatchRows?: number;
  readonly now?: () => number;
  /** Large models by name: their batches are OpenAI batch files answered by the endpoint. */
  readonly languageModels?: ReadonlyMap<string, SageMakerRunner>;
  /** Requests in flight per language-model batch. */
  readonly chatConcurrency?: number;
  /** Files above `thresholdBytes` are handed to a distributed run (Step Functions Distributed Map). */
  readonly largeFiles?: {
    readonly thresholdBytes: number;
    start(input: {
      jobId: string;
      inputKey: string;
      eTag?: string;
      size?: number;
      format: string;
      startedAt: string;
    }): Promise<void>;
  };
}

export interface BatchObject {
  readonly key: string;
  readonly eTag?: string | undefined;
  readonly size?: number | undefined;
}

/** A job that cannot succeed however often it is retried: the manifest says why. */
class JobFailure extends Error {}

/** The status of a finished job, from what it read and scored. */
export function finalStatus(job: {
  readonly error?: string | undefined;
  readonly rows: number;
  readonly failed: number;
}): BatchStatus {
  if (job.error) return 'failed';
  if (job.rows === 0) return 'empty';
  return job.failed > 0 ? 'completed_with_errors' : 'succeeded';
}

const TERMINAL: ReadonlySet<BatchStatus> = new Set(['succeeded', 'completed_with_errors', 'empty', 'failed']);

/** The job id of an input key: its path under `batch/input/`, URL-safe. */
export function jobId(inputKey: string): string {
  return Buffer.from(inputKey).toString('base64url');
}

/**
 * Runs one batch job: streams the input object line by line, scores rows in
 * micro-batches, streams `{"line", "prediction"}` or `{"line", "error"}` per
 * line to the output (visible only once complete), then writes the manifest.
 * Rerunning an input whose manifest already records the same eTag is a no-op.
 *
 * @throws on transient failures (S3, model loading), so the queue retries.
 * @returns the manifest, or undefined for keys that are not batch inputs.
 */
export async function runBatchJob(
  deps: BatchDependencies,
  object: BatchObject,
): Promise<BatchManifest | undefined> {
  const target = batchTarget(object.key);
  if (!target) return undefined;
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const base = {
    id: jobId(object.key),
    rows: 0,
    succeeded: 0,
    failed: 0,
    blankLines: 0,
    startedAt: new Date(startedAt).toISOString(),
  };
  if (isRejected(target)) {
    const manifest: BatchManifest = {
      ...base,
      status: 'failed',
      input: { key: object.key, eTag: object.eTag, size: object.size },
      error: target.error,
    };
    await putJson(deps, target.manifestKey, manifest);
    return manifest;
  }

  const head =
    object.eTag === undefined
      ? await headObject(deps, object.key)
      : { eTag: object.eTag.replaceAll('"', ''), size: object.size };
  if (!head) return undefined;
  const input = { key: object.key, eTag: head.eTag, size: head.size };
  const previous = await readManifest(deps, target.manifestKey);
  if (previous && previous.input.eTag === input.eTag && TERMINAL.has(previous.status)) return previous;
  if (previous?.mode === 'distributed' && previous.status === 'running' && previous.input.eTag === input.eTag)
    return previous;

  if (deps.largeFiles && (input.size ?? 0) > deps.largeFiles.thresholdBytes && !isRejected(target)) {
    const manifest: BatchManifest = {
      ...base,
      status: 'running',
      input,
      model: target.model,
      mode: 'distributed',
    };
    await putJson(deps, target.manifestKey, manifest);
    await deps.largeFiles.start({
      jobId: base.id,
      inputKey: object.key,
      eTag: input.eTag,
      size: input.size,
      format: target.format,
      startedAt: base.startedAt,
    });
    return manifest;
  }

  await putJson(deps, target.manifestKey, { ...base, status: 'running', input, model: target.model });
  const language = deps.languageModels?.get(target.model);
  if (language) {
    const chat = await runChatBatch(deps, target, language, deps.chatConcurrency);
    const finished = now();
    const manifest: BatchManifest = {
      ...base,
      status: finalStatus(chat),
      input,
      output: target.outputKey,
      model: target.model,
      version: language.model.endpoint,
      rows: chat.rows,
      succeeded: chat.rows - chat.failed,
      failed: chat.failed,
      blankLines: chat.blankLines,
      finishedAt: new Date(finished).toISOString(),
      durationMs: finished - startedAt,
      modelMs: Math.round(chat.modelMs),
      ...(chat.error && { error: chat.error }),
      ...(!chat.error && chat.rows === 0 && { error: 'the input has no rows' }),
    };
    await putJson(deps, target.manifestKey, manifest);
    return manifest;
  }
  let model: Manifest;
  let runner: ModelRunner;
  let spec: TensorSpec;
  try {
    model = await deps.registry.resolve(target.model);
    spec = batchInput(model);
    runner = deps.runnerFor(model);
    await runner.load();
  } catch (error) {
    if (
      !(error instanceof NotFoundError) &&
      !(error instanceof Error && error.message.includes('batch jobs need'))
    )
      throw error;
    const manifest: BatchManifest = {
      ...base,
      status: 'failed',
      input,
      model: target.model,
      error: error instanceof NotFoundError ? `unknown model: ${error.message}` : error.message,
      finishedAt: new Date(now()).toISOString(),
    };
    await putJson(deps, target.manifestKey, manifest);
    return manifest;
  }

  const result = await score(deps, target, model, spec, runner);
  const finished = now();
  const durationMs = finished - startedAt;
  const status = finalStatus(result);
  const manifest: BatchManifest = {
    ...base,
    status,
    input,
    output: target.outputKey,
    model: model.name,
    version: model.version,
    rows: result.rows,
    succeeded: result.rows - result.failed,
    failed: result.failed,
    blankLines: result.blankLines,
    finishedAt: new Date(finished).toISOString(),
    durationMs,
    rowsPerSecond: durationMs > 0 ? Math.round((result.rows / durationMs) * 1000) : result.rows,
    modelMs: Math.round(result.modelMs),
    ...(result.error && { error: result.error }),
    ...(status === 'empty' && { error: result.emptyReason }),
  };
  await putJson(deps, target.manifestKey, manifest);
  return manifest;
}

/** Streams input to output; per-row problems become error lines, a broken input ends the job as failed. */
async function score(
  deps: BatchDependencies,
  target: BatchTarget,
  model: Manifest,
  spec: TensorSpec,
  runner: ModelRunner,
) {
  const batchRows = deps.microBatchRows ?? 4096;
  const output = objectWriter(deps, target.outputKey);
  const stats = {
    rows: 0,
    failed: 0,
    blankLines: 0,
    modelMs: 0,
    error: undefined as string | undefined,
    emptyReason: '',
  };
  const batch = new MicroBatch(model, spec, batchRows);
  // The model scores one micro-batch (and its lines are written) while the next one is parsed;
  // the one after waits for that one, so at most two are held at a time.
  let inflight: Promise<void> = Promise.resolve();
  const flush = async () => {
    if (batch.size === 0) return;
    const scoring = batch.score(runner);
    const previous = inflight;
    inflight = (async () => {
      const scored = await scoring;
      await previous;
      stats.failed += scored.failed;
      stats.modelMs += scored.modelMs;
      await output.write(scored.bytes);
    })();
    // Awaited by the next flush (or finish); this only keeps it from counting as unhandled meanwhile.
    inflight.catch(() => {});
    await previous;
  };
  const finish = async () => {
    await flush();
    await inflight;
  };

  let lineNumber = 0;
  let columns: (CsvLayout & { fieldStarts: Int32Array }) | undefined;
  const width = spec.shape[1] as number;
  try {
    try {
      for await (const block of objectBlocks(deps, target.inputKey, target.gzip)) {
        const cursor = new LineCursor(block);
        while (cursor.next()) {
          lineNumber++;
          const { start, end } = cursor;
          const first = block[start];
          // Plain rows of numbers go from bytes straight into the input tensor.
          if (first !== undefined && first > 32 && first < 128 && batch.target) {
            const parsed = columns
              ? parseCsvInto(
                  block,
                  start,
                  end,
                  columns.columns,
                  columns.fieldStarts,
                  batch.target,
                  batch.offset,
                )
              : target.format === 'jsonl' &&
                parseJsonArrayInto(block, start, end, width, batch.target, batch.offset);
            if (parsed) {
              stats.rows++;
              batch.commit(lineNumber);
              if (batch.full) await flush();
              continue;
            }
          }
          const line = cursor.text();
          if (line.trim() === '') {
            stats.blankLines++;
            continue;
          }
          if (target.format === 'csv' && !columns) {
            try {
              const header = csvColumns(line, model, spec);
              columns = { ...header, fieldStarts: new Int32Array(header.fields + 1) };
            } catch (error) {
              throw new JobFailure((error as Error).message);
            }
            continue;
          }
          const row = columns ? parseCsvRow(line, columns, spec) : parseJsonRow(line, model, spec);
          stats.rows++;
          batch.add(lineNumber, row);
          if (batch.full) await flush();
        }
      }
    } catch (error) {
      if (!isGzipError(error)) throw error;
      await finish();
      throw new JobFailure(
        `the input is not valid gzip after line ${lineNumber}: ${(error as Error).message}; rows before it were scored`,
      );
    }
    await finish();
    if (stats.rows === 0) {
      stats.emptyReason =
        target.format === 'csv' && columns ? 'the CSV has a header but no rows' : 'the input has no rows';
    }
    await output.end();
  } catch (error) {
    if (!(error instanceof JobFailure)) {
      await output.abort();
      throw error;
    }
    stats.error = error.message;
    await output.end();
  }
  return stats;
}

/** The manifest at `key`, if there is one. */
export async function readManifest(
  deps: Pick<BatchDependencies, 's3' | 'bucket'>,
  key: string,
): Promise<BatchManifest | undefined> {
  try {
    const object = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: key }));
    const text = (await object.Body?.transformToString()) ?? '';
    try {
      return JSON.parse(text) as BatchManifest;
    } catch {
      // An unreadable manifest says nothing reliable: the job runs again (its output is idempotent).
      return undefined;
    }
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function headObject(
  deps: BatchDependencies,
  key: string,
): Promise<{ eTag: string | undefined; size: number | undefined } | undefined> {
  try {
    const head = await deps.s3.send(new HeadObjectCommand({ Bucket: deps.bucket, Key: key }));
    return { eTag: head.ETag?.replaceAll('"', ''), size: head.ContentLength };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
