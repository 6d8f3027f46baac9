/**
 * The CLI's batch commands: `modelgate batch submit` uploads a file under `batch/input/<model>/` and waits
 * for the job's manifest; `modelgate batch status` reports on a job.
 */
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { type BatchJobView, batchStatus } from '../functions/core/batch/api.ts';
import { BATCH_INPUT } from '../functions/core/batch/layout.ts';
import { jobId } from '../functions/core/batch/manifest.ts';
import { checkModelName } from '../functions/core/registry/manifest.ts';
import { type Io, progressBar } from './format.ts';

export interface BatchTarget {
  readonly s3: S3Client;
  readonly bucket: string;
}

/**
 * `modelgate batch submit <file> --model m`: uploads the file to
 * `batch/input/<m>/<name>` with a progress bar (on stderr, so `--json`
 * stays clean), waits for the job's manifest and prints the summary.
 * Exit code 0 when every row has a prediction, 1 when the job failed,
 * 3 when it completed with per-row errors.
 */
export async function submit(
  target: BatchTarget,
  file: string,
  options: { model: string; json: boolean; wait: boolean; pollMs?: number; timeoutMs?: number },
  io: Io,
): Promise<number> {
  const model = checkModelName(options.model);
  let size: number;
  try {
    size = statSync(file).size;
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  const key = `${BATCH_INPUT}${model}/${basename(file)}`;
  const upload = new Upload({
    client: target.s3,
    params: { Bucket: target.bucket, Key: key, Body: createReadStream(file) },
    partSize: 8 * 2 ** 20,
  });
  upload.on('httpUploadProgress', (p) =>
    io.err.write(`\ruploading ${progressBar(p.loaded ?? 0, p.total ?? size)}`),
  );
  await upload.done();
  io.err.write(`\ruploading ${progressBar(size, size)}\n`);
  const id = jobId(key);
  if (!options.wait) {
    io.out.write(
      options.json ? `${JSON.stringify({ id, input: key, status: 'queued' })}\n` : `submitted job ${id}\n`,
    );
    return 0;
  }
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  let view: BatchJobView;
  for (;;) {
    view = await batchStatus(target, id);
    if (view.status !== 'queued' && view.status !== 'running') break;
    if (Date.now() > deadline) {
      io.err.write(
        `modelgate: job ${id} still ${view.status} after the wait; check later with: modelgate batch status ${id}\n`,
      );
      return 1;
    }
    io.err.write(`\rjob ${id}: ${view.status}…`);
    await new Promise((r) => setTimeout(r, options.pollMs ?? 500));
  }
  io.err.write('\n');
  return report(view, options.json, io);
}

/** `modelgate batch status <id>`. */
export async function status(target: BatchTarget, id: string, json: boolean, io: Io): Promise<number> {
  return report(await batchStatus(target, id), json, io);
}

function report(view: BatchJobView, json: boolean, io: Io): number {
  const m = view.manifest;
  if (json) io.out.write(`${JSON.stringify(view, null, 2)}\n`);
  else {
    io.out.write(
      `job      ${view.id}\nstatus   ${view.status}\ninput    ${view.input}\noutput   ${view.output}\n`,
    );
    if (m) {
      io.out.write(`model    ${m.model ?? '-'}${m.version ? ` version ${m.version}` : ''}\n`);
      io.out.write(`rows     ${m.rows} (${m.succeeded} predicted, ${m.failed} with errors)\n`);
      if (m.durationMs !== undefined)
        io.out.write(`time     ${(m.durationMs / 1000).toFixed(1)} s, ${m.rowsPerSecond ?? 0} rows/s\n`);
      if (m.error) io.out.write(`error    ${m.error}\n`);
    }
  }
  if (view.status === 'failed') return 1;
  if (view.status === 'completed_with_errors') return 3;
  return 0;
}
