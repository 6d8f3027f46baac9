/**
 * Batch jobs through the API, owned by the API key that submitted them:
 * random ids, files read only from the key's own prefix, status and listing for the owner only.
 */
import { randomBytes } from 'node:crypto';
import {
  CopyObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { BadRequestError, NotFoundError } from '../errors.ts';
import { isObject } from '../json.ts';
import { checkModelName } from '../registry/manifest.ts';
import { isMissingKey } from '../s3.ts';
import type { BatchApiDependencies } from './api.ts';
import { BATCH_INPUT, BATCH_JOBS, BATCH_KEYS, batchTarget, isRejected } from './layout.ts';
import { type BatchManifest, readManifest } from './manifest.ts';

/** What is kept of a job submitted through the API. */
interface JobRecord {
  readonly id: string;
  readonly owner: string;
  readonly model: string;
  /** The file submitted, under the owner's prefix. */
  readonly input: string;
  /** The copy the job runs on, under `batch/input/<model>/jobs/<id>/`. */
  readonly run: string;
  readonly createdAt: string;
}

/** What `POST /v1/batches`, `GET /v1/batches/{id}` and `GET /v1/batches` answer for a job. */
export interface OwnedJobView {
  readonly id: string;
  readonly object: 'batch';
  readonly model: string;
  readonly status: BatchManifest['status'] | 'queued';
  readonly input: string;
  readonly output: string;
  /** The output as an S3 URI (`s3://<bucket>/<output>`), empty while `output` is. */
  readonly output_uri: string;
  readonly created_at: string;
  readonly manifest?: BatchManifest;
}

/** An API batch job's id: `batch_` and 24 random bytes, base64url. */
export const JOB_ID = /^batch_[A-Za-z0-9_-]{32}$/;
const KEY_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** Most jobs `GET /v1/batches` lists, newest first. */
export const LIST_LIMIT = 100;

/** A key's own prefix for batch files: `batch/keys/<key id>/`. */
function keyPrefix(keyId: string): string {
  return `${BATCH_KEYS}${checkKeyId(keyId)}/`;
}

function checkKeyId(keyId: string): string {
  if (!KEY_ID.test(keyId))
    throw new BadRequestError('batch jobs need an API key id of letters, digits, _ or -');
  return keyId;
}

/**
 * Starts a job over a file of the caller's own: `{"model", "input"}` with
 * `input` a name under `batch/keys/<key id>/` (or that full key). The file is
 * copied to a path of the job's own under `batch/input/<model>/`, whose S3
 * event runs it as a dropped file would.
 */
export async function submitOwnedBatch(
  deps: BatchApiDependencies,
  keyId: string,
  body: unknown,
): Promise<OwnedJobView> {
  if (!isObject(body) || typeof body.model !== 'string' || typeof body.input !== 'string') {
    throw new BadRequestError(
      'request body must be {"model": "<model name>", "input": "<file under your prefix>"}',
    );
  }
  const model = checkModelName(body.model);
  const prefix = keyPrefix(keyId);
  const given = body.input;
  const input = given.startsWith('batch/') ? given : `${prefix}${given}`;
  const segments = input.slice(prefix.length).split('/');
  if (!input.startsWith(prefix) || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new BadRequestError(
      `"input" must name a file under your prefix ${prefix} (or be a name relative to it), got ${JSON.stringify(given)}`,
    );
  }
  const file = segments.at(-1) as string;
  // The file's own name says whether it is a batch file (format, compression).
  const named = batchTarget(`${BATCH_INPUT}${model}/${file}`);
  if (!named || isRejected(named))
    throw new BadRequestError(named?.error ?? `"${given}" is not a batch input`);
  const id = `batch_${randomBytes(24).toString('base64url')}`;
  const run = `${BATCH_INPUT}${model}/jobs/${id}/${file}`;
  try {
    await deps.s3.send(new HeadObjectCommand({ Bucket: deps.bucket, Key: input }));
  } catch (error) {
    if (await isMissingKey(deps, input, error))
      throw new NotFoundError(`no object ${input}: upload the file to your prefix first`);
    throw error;
  }
  const record: JobRecord = { id, owner: keyId, model, input, run, createdAt: new Date().toISOString() };
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: deps.bucket,
      Key: recordKey(keyId, id),
      Body: JSON.stringify(record),
      ContentType: 'application/json',
      IfNoneMatch: '*',
    }),
  );
  await deps.s3.send(
    new CopyObjectCommand({
      Bucket: deps.bucket,
      Key: run,
      CopySource: `${deps.bucket}/${input.split('/').map(encodeURIComponent).join('/')}`,
    }),
  );
  return view(deps, record, undefined);
}

/** A job of the caller's, by id; another key's job is as unknown as a made-up id (404). */
export async function ownedBatchStatus(
  deps: BatchApiDependencies,
  keyId: string,
  id: string,
): Promise<OwnedJobView> {
  const record = JOB_ID.test(id) ? await readRecord(deps, recordKey(keyId, id)) : undefined;
  if (!record) throw new NotFoundError(`no batch job '${id}'`);
  return withManifest(deps, record);
}

/** The caller's jobs, newest first (at most {@link LIST_LIMIT}). */
export async function listOwnedBatches(
  deps: BatchApiDependencies,
  keyId: string,
): Promise<{ object: 'list'; data: OwnedJobView[]; has_more: boolean }> {
  const keys: Array<{ key: string; at: number }> = [];
  let token: string | undefined;
  do {
    const page = await deps.s3.send(
      new ListObjectsV2Command({
        Bucket: deps.bucket,
        Prefix: `${BATCH_JOBS}${checkKeyId(keyId)}/`,
        ContinuationToken: token,
      }),
    );
    for (const o of page.Contents ?? [])
      if (o.Key) keys.push({ key: o.Key, at: o.LastModified?.getTime() ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  keys.sort((a, b) => b.at - a.at);
  const records = await Promise.all(keys.slice(0, LIST_LIMIT).map((k) => readRecord(deps, k.key)));
  const data = await Promise.all(
    records.filter((r): r is JobRecord => r !== undefined).map((r) => withManifest(deps, r)),
  );
  data.sort((a, b) => b.created_at.localeCompare(a.created_at));
  return { object: 'list', data, has_more: keys.length > LIST_LIMIT };
}

function recordKey(keyId: string, id: string): string {
  return `${BATCH_JOBS}${checkKeyId(keyId)}/${id}.json`;
}

async function readRecord(deps: BatchApiDependencies, key: string): Promise<JobRecord | undefined> {
  try {
    const object = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: key }));
    return JSON.parse((await object.Body?.transformToString()) ?? '') as JobRecord;
  } catch (error) {
    if (await isMissingKey(deps, key, error)) return undefined;
    throw error;
  }
}

async function withManifest(deps: BatchApiDependencies, record: JobRecord): Promise<OwnedJobView> {
  const target = batchTarget(record.run);
  const manifest = target ? await readManifest(deps, target.manifestKey) : undefined;
  return view(deps, record, manifest, target);
}

function view(
  deps: BatchApiDependencies,
  record: JobRecord,
  manifest: BatchManifest | undefined,
  target = batchTarget(record.run),
): OwnedJobView {
  const output = target && !isRejected(target) ? target.outputKey : '';
  return {
    id: record.id,
    object: 'batch',
    model: record.model,
    status: manifest?.status ?? 'queued',
    input: record.input,
    output,
    output_uri: output && `s3://${deps.bucket}/${output}`,
    created_at: record.createdAt,
    // The manifest names the job by its run path; the caller knows it by its own id.
    ...(manifest && { manifest: { ...manifest, id: record.id } }),
  };
}
