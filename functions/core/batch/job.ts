import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { NotFoundError, UnbatchableModelError } from '../errors.ts';
import type { Manifest, TensorSpec } from '../registry/manifest.ts';
import type { Registry } from '../registry/store.ts';
import type { ModelRunner } from '../runners/runner.ts';
import type { SageMakerRunner } from '../runners/sagemaker.ts';
import { isNotFound } from '../s3.ts';
import { runChatBatch } from './chat.ts';
import { isGzipError, LineCursor, objectBlocks, objectWriter, putJson } from './io.ts';
import { type BatchTarget, batchTarget, isRejected } from './layout.ts';
import {
  batchInput,
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

/** What a manifest says beyond its id, start and (zero by default) counts. */
type ManifestFields = Omit<
  BatchManifest,
  'id' | 'startedAt' | 'rows' | 'succeeded' | 'failed' | 'blankLines'
> &
  Partial<Pick<BatchManifest, 'rows' | 'succeeded' | 'failed' | 'blankLines'>>;

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
  const location = batchTarget(object.key);
  if (!location) return undefined;
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const id = jobId(object.key);
  /** Every manifest this job writes: the counts start at zero, `fields` say the rest. */
  const manifest = (fields: ManifestFields): BatchManifest => ({
    id,
    rows: 0,
    succeeded: 0,
    failed: 0,
    blankLines: 0,
    startedAt: new Date(startedAt).toISOString(),
    ...fields,
  });
  const record = async (written: BatchManifest) => {
    await putJson(deps, location.manifestKey, written);
    return written;
  };
  /** The fields of a job that ran to its end, from what it counted. */
  const finishedFields = (counts: { rows: number; failed: number; blankLines: number; modelMs: number }) => {
    const finished = now();
    return {
      rows: counts.rows,
      succeeded: counts.rows - counts.failed,
      failed: counts.failed,
      blankLines: counts.blankLines,
      finishedAt: new Date(finished).toISOString(),
      durationMs: finished - startedAt,
      modelMs: Math.round(counts.modelMs),
    };
  };

  if (isRejected(location)) {
    const input = { key: object.key, eTag: object.eTag, size: object.size };
    return record(manifest({ status: 'failed', input, error: location.error }));
  }
  const head =
    object.eTag === undefined
      ? await headObject(deps, object.key)
      : { eTag: object.eTag.replaceAll('"', ''), size: object.size };
  if (!head) return undefined;
  const input = { key: object.key, eTag: head.eTag, size: head.size };
  const previous = await readManifest(deps, location.manifestKey);
  if (previous && previous.input.eTag === input.eTag && TERMINAL.has(previous.status)) return previous;
  if (previous?.mode === 'distributed' && previous.status === 'running' && previous.input.eTag === input.eTag)
    return previous;

  if (deps.largeFiles && (input.size ?? 0) > deps.largeFiles.thresholdBytes) {
    const running = await record(
      manifest({ status: 'running', input, model: location.model, mode: 'distributed' }),
    );
    await deps.largeFiles.start({
      jobId: id,
      inputKey: object.key,
      eTag: input.eTag,
      size: input.size,
      format: location.format,
      startedAt: running.startedAt,
    });
    return running;
  }

  await record(manifest({ status: 'running', input, model: location.model }));
  const language = deps.languageModels?.get(location.model);
  if (language) {
    const chat = await runChatBatch(deps, location, language, deps.chatConcurrency);
    return record(
      manifest({
        status: finalStatus(chat),
        input,
        output: location.outputKey,
        model: location.model,
        version: language.model.endpoint,
        ...finishedFields(chat),
        ...(chat.error && { error: chat.error }),
        ...(!chat.error && chat.rows === 0 && { error: 'the input has no rows' }),
      }),
    );
  }
  let model: Manifest;
  let runner: ModelRunner;
  let spec: TensorSpec;
  try {
    model = await deps.registry.resolve(location.model);
    spec = batchInput(model);
    runner = deps.runnerFor(model);
    await runner.load();
  } catch (error) {
    if (!(error instanceof NotFoundError) && !(error instanceof UnbatchableModelError)) throw error;
    return record(
      manifest({
        status: 'failed',
        input,
        model: location.model,
        error: error instanceof NotFoundError ? `unknown model: ${error.message}` : error.message,
        finishedAt: new Date(now()).toISOString(),
      }),
    );
  }

  const result = await score(deps, location, model, spec, runner);
  const status = finalStatus(result);
  const fields = finishedFields(result);
  return record(
    manifest({
      status,
      input,
      output: location.outputKey,
      model: model.name,
      version: model.version,
      ...fields,
      rowsPerSecond:
        fields.durationMs > 0 ? Math.round((result.rows / fields.durationMs) * 1000) : result.rows,
      ...(result.error && { error: result.error }),
      ...(status === 'empty' && { error: result.emptyReason }),
    }),
  );
}

/** Streams input to output; per-row problems become error lines, a broken input ends the job as failed. */
async function score(
  deps: BatchDependencies,
  location: BatchTarget,
  model: Manifest,
  spec: TensorSpec,
  runner: ModelRunner,
) {
  const batchRows = deps.microBatchRows ?? 4096;
  const output = objectWriter(deps, location.outputKey);
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
  let columns: { columns: number[]; names: string[]; fieldStarts: Int32Array } | undefined;
  const width = spec.shape[1] as number;
  try {
    try {
      for await (const block of objectBlocks(deps, location.inputKey, location.gzip)) {
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
              : location.format === 'jsonl' &&
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
          if (location.format === 'csv' && !columns) {
            try {
              const header = csvColumns(line, model, spec);
              columns = { ...header, fieldStarts: new Int32Array(Math.max(...header.columns) + 2) };
            } catch (error) {
              throw new JobFailure((error as Error).message);
            }
            continue;
          }
          const row = columns
            ? parseCsvRow(line, columns.columns, columns.names, spec)
            : parseJsonRow(line, model, spec);
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
        location.format === 'csv' && columns ? 'the CSV has a header but no rows' : 'the input has no rows';
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
