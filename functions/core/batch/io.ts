/**
 * Batch files in S3: an object read as blocks of whole lines (gunzipped when needed; a broken stream throws,
 * never passing for the end), the lines of a block walked, and outputs and manifests written.
 */
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

export interface BatchStore {
  readonly s3: S3Client;
  readonly bucket: string;
}

/**
 * An S3 object's bytes, gunzipped when `gzip`, in blocks that end at a line
 * feed (the last block may end without one): a line never spans two blocks.
 * A stream that breaks (network, truncated gzip) throws at the point it
 * broke, never passing for the end of the file. With `eTag`, only that
 * version of the object is read (S3 answers 412 PreconditionFailed otherwise).
 */
export async function* objectBlocks(
  store: BatchStore,
  key: string,
  gzip: boolean,
  eTag?: string,
): AsyncGenerator<Buffer> {
  const object = await store.s3.send(
    new GetObjectCommand({ Bucket: store.bucket, Key: key, ...(eTag && { IfMatch: `"${eTag}"` }) }),
  );
  const body = object.Body as Readable;
  const source = gzip ? body.pipe(createGunzip()) : body;
  let failure: Error | undefined;
  const remember = (error: Error) => {
    failure ??= error;
    source.destroy(error);
  };
  body.on('error', remember);
  if (source !== body) source.on('error', remember);
  yield* lineBlocks(source, () => failure);
}

/**
 * Re-cuts a byte stream into blocks that end at a line feed (the last one may
 * not). `failed()` is asked before that last line: a stream that broke throws
 * instead of handing over a line it may have cut short.
 */
export async function* lineBlocks(
  source: AsyncIterable<Buffer>,
  failed: () => Error | undefined = () => undefined,
): AsyncGenerator<Buffer> {
  // The start of a line still waiting for its line feed.
  let partial: Buffer[] = [];
  for await (const chunk of source) {
    const last = chunk.lastIndexOf(10);
    if (last < 0) {
      partial.push(chunk);
      continue;
    }
    let from = 0;
    if (partial.length > 0) {
      // Only the line that spans chunks is copied; the rest are views of the chunk.
      from = chunk.indexOf(10) + 1;
      yield Buffer.concat([...partial, chunk.subarray(0, from)]);
    }
    if (from <= last) yield chunk.subarray(from, last + 1);
    partial = last + 1 < chunk.length ? [chunk.subarray(last + 1)] : [];
  }
  const failure = failed();
  if (failure) throw failure;
  if (partial.length > 0) yield Buffer.concat(partial);
}

/**
 * Walks the lines of a block: each `next()` moves `start`/`end` to the next
 * line, without its line ending (LF, CRLF, or a lone CR, as readline counts
 * them). A block's trailing line feed does not start another line.
 */
export class LineCursor {
  start = 0;
  end = 0;
  private position = 0;
  private readonly crs: boolean;

  constructor(readonly block: Buffer) {
    this.crs = block.indexOf(13) >= 0;
  }

  next(): boolean {
    const { block, position } = this;
    if (position >= block.length) return false;
    let end = block.indexOf(10, position);
    let next = end + 1;
    if (end < 0) next = end = block.length;
    if (this.crs) {
      const cr = block.indexOf(13, position);
      if (cr >= 0 && cr < end) {
        if (cr < end - 1) next = cr + 1; // a lone CR ends the line; CRLF ends it at the LF
        end = cr;
      }
    }
    this.start = position;
    this.end = end;
    this.position = next;
    return true;
  }

  text(): string {
    return this.block.toString('utf8', this.start, this.end);
  }
}

/** The lines of an S3 object as text (see objectBlocks and LineCursor). */
export async function* objectLines(store: BatchStore, key: string, gzip: boolean): AsyncGenerator<string> {
  for await (const block of objectBlocks(store, key, gzip)) {
    const cursor = new LineCursor(block);
    while (cursor.next()) yield cursor.text();
  }
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
    partSize: 5 * 1024 * 1024,
  });
  const done = upload.done();
  done.catch(() => {});
  return {
    async write(data: string | Uint8Array): Promise<void> {
      if (!out.write(data)) await once(out, 'drain');
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
