/** A whole-file batch job: from an input object to its scored output and manifest (or a Distributed Map run for large files). */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { NotFoundError, UnbatchableModelError } from '../errors.ts';
import type { Manifest, TensorSpec } from '../registry/manifest.ts';
import type { Registry } from '../registry/store.ts';
import type { ModelRunner } from '../runners/runner.ts';
import type { SageMakerRunner } from '../runners/sagemaker.ts';
import { isMissingKey } from '../s3.ts';
import { runChatBatch } from './chat.ts';
import { putJson } from './io.ts';
import { batchTarget, isRejected } from './layout.ts';
import {
  type BatchManifest,
  finalStatus,
  jobId,
  type ManifestFields,
  readManifest,
  TERMINAL,
} from './manifest.ts';
import { batchInput } from './rows.ts';
import { scoreFile } from './score-file.ts';

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

  const result = await scoreFile(deps, location, model, spec, runner);
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

async function headObject(
  deps: BatchDependencies,
  key: string,
): Promise<{ eTag: string | undefined; size: number | undefined } | undefined> {
  try {
    const head = await deps.s3.send(new HeadObjectCommand({ Bucket: deps.bucket, Key: key }));
    return { eTag: head.ETag?.replaceAll('"', ''), size: head.ContentLength };
  } catch (error) {
    if (await isMissingKey(deps, key, error)) return undefined;
    throw error;
  }
}
