/**
 * Batch jobs through the REST API: `POST /v1/batches` starts a job over an object already in the bucket (by
 * copying it under `batch/input/<model>/`), `GET /v1/batches/{id}` reports a job's status.
 */
import { CopyObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BadRequestError, NotFoundError } from '../errors.ts';
import { isObject } from '../json.ts';
import { checkModelName } from '../registry/manifest.ts';
import { isNotFound } from '../s3.ts';
import { BATCH_INPUT, batchTarget, isRejected } from './layout.ts';
import { type BatchManifest, jobId, readManifest } from './manifest.ts';

export interface BatchApiDependencies {
  readonly s3: S3Client;
  readonly bucket: string;
}

/** What `POST /v1/batches` and `GET /v1/batches/{id}` answer. */
export interface BatchJobView {
  readonly id: string;
  readonly status: BatchManifest['status'] | 'queued';
  readonly input: string;
  readonly output: string;
  readonly manifest?: BatchManifest;
}

/**
 * Starts a batch job over an object already in the bucket: `{"model", "input"}`
 * with `input` a key under `batch/input/`. The object is copied to
 * `batch/input/<model>/<file>` (or onto itself), and that S3 event runs the
 * job as a dropped file would: one code path.
 */
export async function submitBatch(deps: BatchApiDependencies, body: unknown): Promise<BatchJobView> {
  if (!isObject(body) || typeof body.model !== 'string' || typeof body.input !== 'string') {
    throw new BadRequestError('request body must be {"model": "<model name>", "input": "batch/input/<...>"}');
  }
  const model = checkModelName(body.model);
  const source = body.input;
  if (!source.startsWith(BATCH_INPUT) || source.includes('..')) {
    throw new BadRequestError(`"input" must be a key under ${BATCH_INPUT}, got ${JSON.stringify(source)}`);
  }
  const file = source
    .slice(BATCH_INPUT.length)
    .split('/')
    .slice(source.startsWith(`${BATCH_INPUT}${model}/`) ? 1 : 0)
    .join('/');
  const key = `${BATCH_INPUT}${model}/${file}`;
  const target = batchTarget(key);
  if (!target || isRejected(target))
    throw new BadRequestError(target?.error ?? `"${source}" is not a batch input`);
  try {
    await deps.s3.send(new HeadObjectCommand({ Bucket: deps.bucket, Key: source }));
  } catch (error) {
    if (isNotFound(error))
      throw new NotFoundError(`no object ${source} in the model bucket: upload the file first`);
    throw error;
  }
  const previous = await readManifest(deps, target.manifestKey);
  // Copying an object onto itself needs a metadata change; it fires the same S3 event as an upload.
  await deps.s3.send(
    new CopyObjectCommand({
      Bucket: deps.bucket,
      Key: key,
      CopySource: `${deps.bucket}/${source.split('/').map(encodeURIComponent).join('/')}`,
      MetadataDirective: 'REPLACE',
      Metadata: { 'modelgate-submitted': new Date().toISOString() },
    }),
  );
  return view(key, previous);
}

/** The status of a job by id (from `POST /v1/batches` or the manifest's `id`). */
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
      if (isNotFound(error)) throw new NotFoundError(`no batch job '${id}'`);
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
