/** Batch jobs through the REST API: what a job answers, and reading a job's manifest back. */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { NotFoundError } from '../errors.ts';
import { isMissingKey } from '../s3.ts';
import { batchTarget, isRejected } from './layout.ts';
import { type BatchManifest, jobId, readManifest } from './manifest.ts';

export interface BatchApiDependencies {
  readonly s3: S3Client;
  readonly bucket: string;
}

/** A job as operators see it (`modelgate batch status`), by the id of its input key. */
export interface BatchJobView {
  readonly id: string;
  readonly status: BatchManifest['status'] | 'queued';
  readonly input: string;
  readonly output: string;
  readonly manifest?: BatchManifest;
}

/**
 * The status of any job by the id of its input key (the manifest's `id`): for
 * operators reading the bucket. The API answers only a key's own jobs (tenants.ts).
 */
export async function batchStatus(deps: BatchApiDependencies, id: string): Promise<BatchJobView> {
  let key: string;
  try {
    key = Buffer.from(id, 'base64url').toString('utf8');
  } catch {
    key = '';
  }
  const target = key ? batchTarget(key) : undefined;
  if (!target || jobId(key) !== id) throw new NotFoundError(`no batch job '${id}'`);
  const manifest = await readManifest(deps, target.manifestKey);
  if (!manifest) {
    try {
      await deps.s3.send(new HeadObjectCommand({ Bucket: deps.bucket, Key: key }));
    } catch (error) {
      if (await isMissingKey(deps, key, error)) throw new NotFoundError(`no batch job '${id}'`);
      throw error;
    }
  }
  return view(key, manifest);
}

function view(key: string, manifest: BatchManifest | undefined): BatchJobView {
  const target = batchTarget(key);
  const output = target && !isRejected(target) ? target.outputKey : '';
  return {
    id: jobId(key),
    status: manifest?.status ?? 'queued',
    input: key,
    output,
    ...(manifest && { manifest }),
  };
}
