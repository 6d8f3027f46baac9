/**
 * The api handler over a model store that stops answering (a TCP hop in front of a real s3rver): a 503 with
 * Retry-After within the SDK's timeout, then served again once the store answers, with no failure cached.
 */
import { mkdtempSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { predictEvent } from '../../bench/lib/process.ts';
import { publishModel } from '../../cli/registry/publish.ts';
import { createApiHandler } from '../../functions/api/app.ts';
import { ArtifactStore } from '../../functions/core/registry/artifacts.ts';
import { Registry } from '../../functions/core/registry/store.ts';
import { OnnxRuntime } from '../../functions/core/runners/onnx/runtime.ts';
import { createS3Client } from '../../functions/core/s3.ts';
import { createTelemetry } from '../../functions/core/telemetry.ts';
import { S3RVER_CREDENTIALS } from '../../local/s3.ts';
import { sampleModelBytes } from '../fixtures/models.ts';
import { startTestS3, type TestS3 } from '../fixtures/s3.ts';

/**
 * A TCP hop in front of the real s3rver. Stalled, it accepts connections and
 * reads requests but never answers, as an overloaded or partitioned store does;
 * flowing, it passes bytes both ways.
 */
function stallingHop(target: URL): Promise<{ server: Server; url: string; stall: (on: boolean) => void }> {
  let stalled = true;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (stalled) {
      client.resume();
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    client.pipe(upstream).pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        server,
        url: `http://127.0.0.1:${port}`,
        stall(on) {
          stalled = on;
          // Connections held while stalled are dropped when the store comes back, as a restart would.
          if (!on) for (const socket of sockets) socket.destroy();
        },
      });
    });
  });
}

let t: TestS3;
let hop: Awaited<ReturnType<typeof stallingHop>>;
beforeAll(async () => {
  t = await startTestS3('stalled-store');
  await publishModel(t.s3, t.bucket, { name: 'linear', bytes: sampleModelBytes('linear') });
  hop = await stallingHop(new URL(t.store.url));
});
afterAll(async () => {
  vi.unstubAllEnvs();
  hop.server.close();
  await t.close();
});

describe('a stalled model store, for real on loopback', () => {
  it('answers 503 with Retry-After within the timeout, then serves once the store answers again', async () => {
    // The function's client takes its credentials from the environment, as on Lambda.
    vi.stubEnv('AWS_ACCESS_KEY_ID', S3RVER_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', S3RVER_CREDENTIALS.secretAccessKey);
    const s3 = createS3Client(hop.url, { timeoutMs: 300 });
    const handle = createApiHandler({
      registry: new Registry({ s3, bucket: t.bucket, ttlSeconds: 15 }),
      runtime: new OnnxRuntime({
        artifacts: new ArtifactStore({
          s3,
          bucket: t.bucket,
          cacheDir: mkdtempSync(join(tmpdir(), 'mg-stall-')),
        }),
        maxCacheBytes: 1 << 26,
      }),
      telemetry: createTelemetry('modelgate-api'),
      maxElements: 1000,
      batch: { s3, bucket: t.bucket },
      server: { name: 'modelgate', version: '0' },
    });

    const started = performance.now();
    const stalled = await handle(predictEvent('linear', [[1]]));
    const waited = performance.now() - started;
    expect(stalled.statusCode).toBe(503);
    expect(stalled.headers?.['Retry-After'] ?? stalled.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(stalled.body).error).toMatch(/model store unavailable .*; retry shortly/);
    // The SDK's three attempts of 300 ms and its backoff, not the function's 29 s timeout.
    expect(waited).toBeLessThan(5_000);

    hop.stall(false);
    // A client retries; the reads begun while the store stalled fail once their connections drop
    // and leave no cache entry behind, so a retry is served well within the registry's 15 s TTL
    // (a cached failure would outlast this wait).
    const served = await vi.waitFor(
      async () => {
        const retried = await handle(predictEvent('linear', [[1]]));
        expect(retried.statusCode, retried.body).toBe(200);
        return retried;
      },
      { timeout: 5_000, interval: 100 },
    );
    expect(JSON.parse(served.body).predictions[0]).toBeCloseTo(3.4946, 3);
    s3.destroy();
  }, 30_000);
});
