/**
 * Large batch files on a Step Functions Distributed Map: each chunk of rows scored into a part object, then
 * the parts merged, in input order, into the job's output and manifest.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Manifest } from '../registry/manifest.ts';
import type { Registry } from '../registry/store.ts';
import type { ModelRunner } from '../runners/runner.ts';
import { objectWriter, putJson } from './io.ts';
import { parseJsonValue } from './json-rows.ts';
import { BATCH_OUTPUT, batchTarget, isRejected } from './layout.ts';
import { type BatchManifest, finalStatus, readManifest } from './manifest.ts';
import { RecordCheck, replaceMisfits } from './record-check.ts';
import { batchInput, csvColumns, parseCsvFields } from './rows.ts';
import { type LineRow, scoreRows } from './score.ts';

/** What the Distributed Map hands the chunk function: its batch input and the items, each with its index. */
export interface ChunkEvent {
  readonly BatchInput: {
    readonly jobId: string;
    readonly inputKey: string;
    readonly format: 'jsonl' | 'csv';
  };
  readonly Items: ReadonlyArray<{ readonly index: number; readonly value: unknown }>;
}

/** What the merge step gets: the execution input, and the error when the map failed. */
export interface MergeEvent {
  readonly jobId: string;
  readonly inputKey: string;
  readonly eTag?: string;
  readonly size?: number;
  readonly startedAt: string;
  readonly error?: { readonly Error?: string; readonly Cause?: string };
}

export interface ChunkDependencies {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly registry: Registry;
  readonly runnerFor: (manifest: Manifest) => ModelRunner;
  readonly microBatchRows?: number;
}

/** A part object's name: its first item's index, zero-padded, and this suffix. */
const PART_SUFFIX = '.jsonl';

/** Where the chunks of a distributed job put their lines before the merge. */
export function partsPrefix(jobId: string): string {
  return `${BATCH_OUTPUT}.parts/${jobId}/`;
}

/**
 * Scores one Distributed Map batch with the same code as whole-file jobs and
 * writes its lines to a part object named by its first item, so the merge can
 * put parts back in input order. Line numbers come from the item indexes
 * (CSV: after the header line).
 */
export async function scoreChunk(
  deps: ChunkDependencies,
  event: ChunkEvent,
): Promise<{ part: string; rows: number; failed: number }> {
  const target = batchTarget(event.BatchInput.inputKey);
  if (!target || isRejected(target)) throw new Error(`not a batch input: ${event.BatchInput.inputKey}`);
  const model = await deps.registry.resolve(target.model);
  const spec = batchInput(model);
  const runner = deps.runnerFor(model);
  const csv = event.BatchInput.format === 'csv';
  const first = event.Items[0]?.value;
  const header = csv && first && typeof first === 'object' ? Object.keys(first) : undefined;
  const layout = header ? csvColumns(header.join(','), model, spec) : undefined;
  const rows: LineRow[] = event.Items.map(({ index, value }) => {
    const row =
      header && layout
        ? parseCsvFields(recordFields(value as Record<string, string | undefined>, header), layout, spec)
        : parseJsonValue(value, model, spec);
    return { line: index + (csv ? 2 : 1), row };
  });
  const size = deps.microBatchRows ?? 4096;
  const scoredParts: Buffer[] = [];
  let failed = 0;
  for (let i = 0; i < rows.length; i += size) {
    const scored = await scoreRows(model, spec, runner, rows.slice(i, i + size));
    scoredParts.push(scored.bytes);
    failed += scored.failed;
  }
  const body = Buffer.concat(scoredParts);
  const part = `${partsPrefix(event.BatchInput.jobId)}${String(event.Items[0]?.index ?? 0).padStart(12, '0')}${PART_SUFFIX}`;
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: deps.bucket,
      Key: part,
      Body: body,
      ContentType: 'application/x-ndjson',
      Metadata: {
        rows: String(rows.length),
        failed: String(failed),
        model: model.name,
        version: model.version,
      },
    }),
  );
  return { part, rows: rows.length, failed };
}

/**
 * Concatenates a distributed job's parts in input order into the job's
 * output, writes the same manifest a whole-file job writes, and removes the
 * parts. A CSV input is read once alongside, and a record with another field
 * count than the header's gets the whole-file path's error line instead of
 * its part's. A failed map still gets its manifest, with the error.
 */
export async function mergeChunks(
  deps: Pick<ChunkDependencies, 's3' | 'bucket'>,
  event: MergeEvent,
): Promise<BatchManifest> {
  const target = batchTarget(event.inputKey);
  if (!target || isRejected(target)) throw new Error(`not a batch input: ${event.inputKey}`);
  const prefix = partsPrefix(event.jobId);
  const parts: string[] = [];
  let token: string | undefined;
  do {
    const page = await deps.s3.send(
      new ListObjectsV2Command({ Bucket: deps.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key) parts.push(o.Key);
    token = page.NextContinuationToken;
  } while (token);
  parts.sort();

  const output = objectWriter(deps, target.outputKey);
  // Step Functions drops the fields of a CSV record past the header's: the input is read once to find such records.
  const check = target.format === 'csv' ? new RecordCheck(deps, target, event.eTag) : undefined;
  let rows = 0;
  let failed = 0;
  let model: string | undefined;
  let version: string | undefined;
  for (const key of parts) {
    const head = await deps.s3.send(new HeadObjectCommand({ Bucket: deps.bucket, Key: key }));
    const partRows = Number(head.Metadata?.rows ?? 0);
    rows += partRows;
    failed += Number(head.Metadata?.failed ?? 0);
    model ??= head.Metadata?.model;
    version ??= head.Metadata?.version;
    const object = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: key }));
    const text = (await object.Body?.transformToString()) ?? '';
    const first = Number(key.slice(prefix.length, -PART_SUFFIX.length));
    const misfits = check ? await check.within(first, first + partRows) : [];
    if (misfits.length === 0) await output.write(text);
    else {
      const replaced = replaceMisfits(text, first, misfits);
      failed += replaced.failed;
      await output.write(replaced.text);
    }
  }
  // The rest of the input, read only to count its records against the map's items.
  if (!event.error) await check?.within(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY);
  await output.end();

  const previous = await readManifest(deps, target.manifestKey);
  const finished = Date.now();
  const durationMs = finished - Date.parse(event.startedAt);
  const error = event.error
    ? `the distributed run failed: ${event.error.Error ?? 'error'}: ${event.error.Cause ?? ''}`.trim()
    : check && checkProblem(check, rows);
  const status = finalStatus({ error, rows, failed });
  const manifest: BatchManifest = {
    id: event.jobId,
    status,
    input: previous?.input ?? { key: event.inputKey, eTag: event.eTag, size: event.size },
    output: target.outputKey,
    model: model ?? target.model,
    ...(version && { version }),
    rows,
    succeeded: rows - failed,
    failed,
    blankLines: 0,
    startedAt: event.startedAt,
    finishedAt: new Date(finished).toISOString(),
    durationMs,
    rowsPerSecond: durationMs > 0 ? Math.round((rows / durationMs) * 1000) : rows,
    ...(error && { error }),
    ...(!error && rows === 0 && { error: 'the input has no rows' }),
  };
  await putJson(deps, target.manifestKey, manifest);

  for (let i = 0; i < parts.length; i += 1000) {
    await deps.s3.send(
      new DeleteObjectsCommand({
        Bucket: deps.bucket,
        Delete: { Objects: parts.slice(i, i + 1000).map((Key) => ({ Key })) },
      }),
    );
  }
  return manifest;
}

/**
 * The fields of a CSV item (an object keyed by the header) in header order,
 * or all its values when its keys are not the header's, so that a record with
 * a field too many or too few is refused as the whole-file path refuses it.
 * Step Functions' CSV reader itself pads short records with empty fields and
 * drops fields past the header's before the function sees them: the merge
 * finds those records in the input (record-check.ts).
 */
function recordFields(record: Record<string, string | undefined>, header: readonly string[]) {
  const keys = Object.keys(record);
  return keys.length === header.length && header.every((name) => name in record)
    ? header.map((name) => record[name])
    : keys.map((key) => record[key]);
}

/** Why a finished CSV run's field counts cannot be trusted: the input went, or its records are not the map's items. */
function checkProblem(check: RecordCheck, items: number): string | undefined {
  if (check.problem) return check.problem;
  if (check.items !== undefined && check.items !== items) {
    return `the input has ${check.items} records after the header but the map read ${items} item${items === 1 ? '' : 's'}: the records' field counts could not be matched to their rows`;
  }
  return undefined;
}
