import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { endpointConfig } from '../../functions/core/s3.ts';

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
  getMetadata(bucket: string, key: string): Promise<{ etag?: string }>;
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

function unquote(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}
