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
