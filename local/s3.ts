/**
 * Local mode's S3: s3rver on loopback, patched to behave as S3 does (whole-object and conditional writes,
 * multipart ETags), and an S3 client for it.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { endpointConfig } from '../functions/core/s3.ts';

/** s3rver accepts only this access key id; the secret can be anything. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** An S3 client for s3rver at `url`, with s3rver's credentials. */
export function localS3Client(url: string, overrides: S3ClientConfig = {}): S3Client {
  return new S3Client({ ...endpointConfig(url), credentials: S3RVER_CREDENTIALS, ...overrides });
}

export interface LocalS3 {
  readonly url: string;
  readonly port: number;
  /** The s3rver instance: `on('event', …)` gives S3 notification records. */
  readonly server: S3rver;
  close(): Promise<void>;
}

/**
 * Starts s3rver on loopback with `bucket` created, its data kept in `directory`.
 *
 * @param port 0 for an ephemeral port.
 */
export async function startLocalS3(options: {
  port: number;
  directory: string;
  bucket: string;
}): Promise<LocalS3> {
  mkdirSync(options.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port,
    silent: true,
    directory: options.directory,
    configureBuckets: [{ name: options.bucket, configs: [] }],
  });
  honourConditionalWrites(server);
  refuseMissingKeys(server);
  putObjectAtomically(server);
  completeMultipartAsS3(server);
  rejectListenErrors(server);
  const address = (await server.run()) as AddressInfo;
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    port: address.port,
    server,
    async close() {
      const http = (server as unknown as { httpServer?: Server }).httpServer;
      if (!http?.listening) return;
      http.closeAllConnections();
      await server.close();
    },
  };
}

interface KoaContext {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, unknown>;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly res: import('node:http').ServerResponse;
  status: number;
  body: unknown;
  type: string;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;
interface FilesystemStore {
  putObject(object: {
    bucket: string;
    key: string;
    content: Buffer | NodeJS.ReadableStream;
    metadata: Record<string, string>;
  }): Promise<{ size: number; md5: string }>;
  getMetadata(bucket: string, key: string): Promise<{ etag?: string }>;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObjectMultipart(
    bucket: string,
    uploadId: string,
    parts: Array<{ number: number; etag: string }>,
  ): Promise<{ size: number; md5: string }>;
}

/**
 * PutObject as S3 does it: the object appears whole or not at all. s3rver
 * answers a PUT before its file is flushed and writes it in place, so a GET
 * right after could read an empty or half-written object. Here the bytes go to
 * a temporary file beside it (a name s3rver's listing ignores), which is
 * renamed over the object once complete.
 */
function putObjectAtomically(server: S3rver): void {
  const store = (server as unknown as { store: FilesystemStore }).store;
  let sequence = 0;
  store.putObject = async (object) => {
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    const partial = `${objectPath}.${process.pid}-${++sequence}.partial`;
    const md5 = createHash('md5');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        md5.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    const source = Buffer.isBuffer(object.content) ? [object.content] : object.content;
    try {
      await pipeline(source, count, createWriteStream(partial));
      await rename(partial, objectPath);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    const digest = md5.digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    return { size, md5: digest };
  };
}

/**
 * s3rver waits on `listen`'s callback, which Node never calls with an error: a
 * taken port is an unhandled 'error' event that ends the process. Here
 * `run()` rejects with it instead, as listening elsewhere in local mode does.
 */
function rejectListenErrors(server: S3rver): void {
  const s3rver = server as unknown as { listen(...args: unknown[]): Server | Promise<Server> };
  const listen = s3rver.listen.bind(s3rver);
  s3rver.listen = (...args: unknown[]) =>
    new Promise<Server>((resolve, reject) => {
      // With a callback, s3rver's listen returns the server it listens with.
      const http = listen(...args, () => {
        http.off('error', reject);
        resolve(http);
      }) as Server;
      http.once('error', reject);
    });
}

/**
 * CompleteMultipartUpload as S3 does it: the parts are joined into the object
 * and its ETag is the MD5 of the parts' MD5s with their count
 * (`"<hex>-<parts>"`). s3rver hashes the whole object again instead, which
 * reads every byte back through MD5 and gives an ETag S3 would not.
 */
function completeMultipartAsS3(server: S3rver): void {
  const store = (server as unknown as { store: FilesystemStore }).store;
  store.putObjectMultipart = async (bucket, uploadId, parts) => {
    const uploadDir = join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
    const [key, metadata] = await Promise.all([
      readFile(join(uploadDir, 'key'), 'utf8'),
      readFile(join(uploadDir, 'metadata'), 'utf8').then((m) => JSON.parse(m) as Record<string, string>),
    ]);
    const objectPath = store.getResourcePath(bucket, key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    const sorted = [...parts].sort((a, b) => a.number - b.number);
    const digests: Buffer[] = [];
    let size = 0;
    const out = createWriteStream(objectPath);
    try {
      for (const part of sorted) {
        const path = join(uploadDir, String(part.number));
        digests.push(Buffer.from(await readFile(`${path}.md5`, 'utf8'), 'hex'));
        for await (const chunk of createReadStream(path)) {
          size += (chunk as Buffer).length;
          if (!out.write(chunk)) await once(out, 'drain');
        }
      }
    } finally {
      out.end();
      await finished(out);
    }
    const md5 = `${createHash('md5').update(Buffer.concat(digests)).digest('hex')}-${sorted.length}`;
    await store.putMetadata(bucket, key, metadata, md5);
    await rm(uploadDir, { recursive: true, force: true });
    return { size, md5 };
  };
}

/**
 * What s3rver leaves out of S3's consistency model: conditional writes
 * (`PutObject` and `CompleteMultipartUpload` with `If-None-Match: *` fail
 * with 412 when the key exists, with `If-Match: "<etag>"` when the object is
 * absent or has another ETag) and atomic replacement (requests on one key
 * take turns, so a read never sees a half-written file).
 */
function honourConditionalWrites(server: S3rver): void {
  const koa = server as unknown as { middleware: Middleware[]; store: FilesystemStore };
  const locks = new Map<string, Promise<void>>();
  koa.middleware.unshift(async (ctx, next) => {
    const match = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
    // Parts of a multipart upload are not the object: only its completion is.
    if (!match || ctx.query.partNumber !== undefined) return next();
    const bucket = match[1] as string;
    const key = decodeURIComponent(match[2] as string);
    const lockKey = `${bucket}/${key}`;
    // One request at a time per key, held until its answer is sent: s3rver streams
    // a GET's body after the middleware returns, and writes the file in place.
    const previous = locks.get(lockKey) ?? Promise.resolve();
    let release = () => {};
    const mine = new Promise<void>((done) => {
      release = done;
    });
    const chained = previous.then(() => mine);
    locks.set(lockKey, chained);
    ctx.res.once('close', () => {
      release();
      if (locks.get(lockKey) === chained) locks.delete(lockKey);
    });
    await previous;
    const ifNoneMatch = ctx.headers['if-none-match'];
    const ifMatch = ctx.headers['if-match'];
    const write = ctx.method === 'PUT' || (ctx.method === 'POST' && ctx.query.uploadId !== undefined);
    if (!write || (!ifNoneMatch && !ifMatch)) return next();
    const etag = await koa.store.getMetadata(bucket, key).then(
      (metadata) => metadata.etag,
      () => undefined,
    );
    const failed =
      (ifNoneMatch === '*' && etag !== undefined) ||
      (typeof ifMatch === 'string' && (etag === undefined || unquote(ifMatch) !== unquote(etag)));
    if (!failed) return next();
    ctx.status = 412;
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
      '<Message>At least one of the pre-conditions you specified did not hold</Message>' +
      `<Condition>${ifNoneMatch ? 'If-None-Match' : 'If-Match'}</Condition></Error>`;
  });
}

/**
 * GetObject and HeadObject of a missing key answered as S3 answers a caller without s3:ListBucket on
 * the whole bucket: 403 AccessDenied, not 404 (GetObject, "Permissions", in the S3 API reference).
 * No deployed function may list the whole bucket (at most some prefixes, which does not change the
 * answer to a GetObject), so code reading a key that may not exist meets here the answer it meets on
 * AWS, and tells absence apart by listing that key (functions/core/s3.ts isMissingKey).
 */
function refuseMissingKeys(server: S3rver): void {
  const koa = server as unknown as { middleware: Middleware[] };
  koa.middleware.unshift(async (ctx, next) => {
    const key = decodeURIComponent(/^\/[^/]+\/(.+)$/.exec(ctx.path)?.[1] ?? '');
    // A read of the object itself, not of a subresource (?tagging, ?uploadId…); the SDK adds ?x-id.
    const plain = Object.keys(ctx.query).every((name) => name === 'x-id' || name.startsWith('response-'));
    const read = (ctx.method === 'GET' || ctx.method === 'HEAD') && plain;
    if (!read || !key) return next();
    try {
      await next();
      if (ctx.status !== 404) return;
    } catch (error) {
      // s3rver throws its S3Error for Koa to answer.
      if ((error as { code?: string }).code !== 'NoSuchKey') throw error;
    }
    ctx.status = 403;
    ctx.type = 'application/xml';
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>' +
      '<Message>Access Denied</Message></Error>';
  });
}

function unquote(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}
