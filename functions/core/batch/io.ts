import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

export interface BatchStore {
  readonly s3: S3Client;
  readonly bucket: string;
}

/**
 * The lines of an S3 object, gunzipped when `gzip`, without line endings
 * (LF or CRLF). A stream that breaks (network, truncated gzip) throws at the
 * point it broke: readline alone may end quietly, which would pass for the
 * end of the file.
 */
export async function* objectLines(store: BatchStore, key: string, gzip: boolean): AsyncGenerator<string> {
  const object = await store.s3.send(new GetObjectCommand({ Bucket: store.bucket, Key: key }));
  const body = object.Body as Readable;
  const source = gzip ? body.pipe(createGunzip()) : body;
  let failure: Error | undefined;
  const remember = (error: Error) => {
    failure ??= error;
    source.destroy(error);
  };
  body.on('error', remember);
  if (source !== body) source.on('error', remember);
  for await (const line of createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY })) {
    yield line.endsWith('\r') ? line.slice(0, -1) : line;
  }
  if (failure) throw failure;
}

/** True for the errors zlib raises on a damaged or truncated gzip stream. */
export function isGzipError(error: unknown): boolean {
  return (
    Boolean((error as { code?: string }).code?.startsWith('Z_')) ||
    /unexpected end of file|incorrect header check/.test((error as Error).message ?? '')
  );
}

/**
 * A JSON Lines object written as it is produced (multipart upload); it becomes
 * visible under `key` only once `end()` completes, never half-written.
 */
export function objectWriter(store: BatchStore, key: string) {
  const out = new PassThrough();
  const upload = new Upload({
    client: store.s3,
    params: { Bucket: store.bucket, Key: key, Body: out, ContentType: 'application/x-ndjson' },
    queueSize: 2,
    partSize: 8 * 1024 * 1024,
  });
  const done = upload.done();
  done.catch(() => {});
  return {
    async write(text: string): Promise<void> {
      if (!out.write(text)) await once(out, 'drain');
    },
    async end(): Promise<void> {
      out.end();
      await done;
    },
    async abort(): Promise<void> {
      out.destroy();
      await upload.abort().catch(() => {});
    },
  };
}

/** Writes a small JSON document (manifests). */
export async function putJson(store: BatchStore, key: string, value: unknown): Promise<void> {
  await store.s3.send(
    new PutObjectCommand({
      Bucket: store.bucket,
      Key: key,
      Body: `${JSON.stringify(value, null, 2)}\n`,
      ContentType: 'application/json',
    }),
  );
}
