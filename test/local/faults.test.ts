/**
 * Faults injected for real on the local topology: a corrupt model version while production keeps serving, a
 * streamed upload through s3rver byte for byte, and S3 stopped (503 with Retry-After) and restarted.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishModel } from '../../cli/registry/publish.ts';
import { keys } from '../../functions/core/registry/manifest.ts';
import { createS3Client } from '../../functions/core/s3.ts';
import { startLocalS3 } from '../../local/s3.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';
import { sampleModelBytes } from '../fixtures/models.ts';

let api: TestTopology;
beforeAll(async () => {
  api = await startTestTopology();
});
afterAll(() => api.close());

const predictLinear = (path = '/v1/models/linear/predict') => api.call(path, { body: { instances: [[1]] } });

describe('faults, injected for real on loopback', () => {
  it('a corrupt model file is reported clearly while the production version keeps serving', async () => {
    const good = await publishModel(api.s3, api.bucket, {
      name: 'fragile',
      bytes: sampleModelBytes('linear'),
    });
    const bad = await publishModel(api.s3, api.bucket, { name: 'fragile', bytes: sampleModelBytes('iris') });
    await api.s3.send(
      new PutObjectCommand({
        Bucket: api.bucket,
        Key: keys.modelFile('fragile', bad.version),
        Body: randomBytes(bad.sizeBytes),
      }),
    );
    await api.s3.send(
      new PutObjectCommand({
        Bucket: api.bucket,
        Key: keys.aliases('fragile'),
        Body: JSON.stringify({ production: { routes: [{ version: good.version, weight: 100 }] } }),
      }),
    );
    const pinned = await api.call(`/v2/models/fragile/versions/${bad.version}/infer`, {
      body: { inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] },
    });
    expect(pinned.status).toBe(500);
    expect(pinned.json.error).toMatch(
      /model 'fragile' version 2 is corrupt: its file has sha256 .* but the manifest says/,
    );
    const production = await predictLinear('/v1/models/fragile/predict');
    expect(production.status).toBe(200);
    expect(production.json.model_version).toBe(good.version);
  });

  it('a streamed upload to s3rver round-trips byte for byte (no aws-chunked framing stored), with the multipart ETag S3 gives', async () => {
    const client = createS3Client(api.s3Url);
    const bytes = randomBytes(6 * 1024 * 1024 + 123);
    const done = await new Upload({
      client,
      params: {
        Bucket: api.bucket,
        Key: 'roundtrip/blob.bin',
        Body: Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]),
      },
    }).done();
    const back = await client.send(new GetObjectCommand({ Bucket: api.bucket, Key: 'roundtrip/blob.bin' }));
    expect(Buffer.from((await back.Body?.transformToByteArray()) ?? []).equals(bytes)).toBe(true);
    // Two parts (5 MiB and the rest): the MD5 of their MD5s, and their count.
    const md5 = (b: Buffer) => createHash('md5').update(b).digest();
    const parts = [bytes.subarray(0, 5 * 1024 * 1024), bytes.subarray(5 * 1024 * 1024)];
    const etag = `"${createHash('md5')
      .update(Buffer.concat(parts.map(md5)))
      .digest('hex')}-2"`;
    expect(done.ETag).toBe(etag);
    expect(back.ETag).toBe(etag);
    expect(back.ContentLength).toBe(bytes.length);
    client.destroy();
  });
  // Last: it stops the topology's S3.
  it('S3 down while a model loads: 503 with Retry-After, then recovery once S3 is back', async () => {
    await api.store.close();
    const down = await predictLinear();
    expect(down.status).toBe(503);
    expect(down.headers.get('retry-after')).toBe('1');
    expect(down.json.error).toMatch(/model store unavailable .*; retry shortly/);
    expect((await api.call('/v2/health/ready')).status).toBe(503);
    // Same port and folder: the objects are all still there.
    const restarted = await startLocalS3({
      port: api.store.port,
      directory: `${api.home}/s3`,
      bucket: api.bucket,
    });
    try {
      const up = await predictLinear();
      expect(up.status).toBe(200);
      expect(up.json.predictions[0]).toBeCloseTo(3.4946, 3);
    } finally {
      await restarted.close();
    }
  });
});
