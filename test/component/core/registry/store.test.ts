/**
 * Publishing model versions and resolving them through the registry, against a real s3rver: manifests read from
 * the ONNX graph, multipart uploads, weighted and sticky canary routing, the alias cache TTL, unknown names.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishModel } from '../../../../cli/registry/publish.ts';
import { BadRequestError, ModelIntegrityError, NotFoundError } from '../../../../functions/core/errors.ts';
import { hashToUnit, pickRoute } from '../../../../functions/core/registry/canary.ts';
import { keys, MODEL_NAME } from '../../../../functions/core/registry/manifest.ts';
import { Registry } from '../../../../functions/core/registry/store.ts';
import { localS3Client } from '../../../../local/s3.ts';
import { sampleModelBytes } from '../../../fixtures/models.ts';
import { startTestS3, type TestS3 } from '../../../fixtures/s3.ts';

let t: TestS3;
beforeAll(async () => {
  t = await startTestS3();
});
afterAll(() => t.close());

const putAliases = (name: string, aliases: unknown) =>
  t.s3.send(
    new PutObjectCommand({ Bucket: t.bucket, Key: keys.aliases(name), Body: JSON.stringify(aliases) }),
  );

describe('publishModel', () => {
  it('writes an immutable version with sha256, size and tensors read from the ONNX graph', async () => {
    const bytes = sampleModelBytes('iris');
    const manifest = await publishModel(t.s3, t.bucket, {
      name: 'flowers',
      bytes,
      labels: ['setosa', 'versicolor', 'virginica'],
      now: () => new Date('2026-01-02T03:04:05Z'),
    });
    expect(manifest).toMatchObject({
      name: 'flowers',
      version: '1',
      format: 'onnx',
      sizeBytes: bytes.byteLength,
      createdAt: '2026-01-02T03:04:05.000Z',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
    });
    expect(manifest.sha256).toMatch(/^[0-9a-f]{64}$/);
    const again = await publishModel(t.s3, t.bucket, { name: 'flowers', bytes });
    expect(again.version).toBe('2');
  });

  it('uploads a large model file in parts, reporting progress, with the same no-overwrite condition', async () => {
    const bytes = readFileSync(new URL('../../../../models/llm/demo-lm/model.onnx', import.meta.url));
    const progress: number[] = [];
    const publish = () =>
      publishModel(t.s3, t.bucket, {
        name: 'big',
        bytes,
        partBytes: 5 * 1024 * 1024,
        onProgress: (loaded, total) => {
          expect(total).toBe(bytes.byteLength);
          progress.push(loaded);
        },
      });
    const [a, b] = await Promise.all([publish(), publish()]);
    expect([a.version, b.version].sort()).toEqual(['1', '2']);
    expect(progress.filter((p) => p === bytes.byteLength).length).toBeGreaterThanOrEqual(2);
    expect(progress.some((p) => p > 0 && p < bytes.byteLength)).toBe(true);
    const stored = await t.s3.send(
      new GetObjectCommand({ Bucket: t.bucket, Key: keys.modelFile('big', '1') }),
    );
    const body = Buffer.from(await (stored.Body?.transformToByteArray() ?? new Uint8Array()));
    expect(createHash('sha256').update(body).digest('hex')).toBe(a.sha256);
  });

  it('refuses a file that is not ONNX, labels that do not match the classes, and bad names', async () => {
    await expect(
      publishModel(t.s3, t.bucket, { name: 'junk', bytes: Buffer.from('not onnx') }),
    ).rejects.toThrow(ModelIntegrityError);
    await expect(
      publishModel(t.s3, t.bucket, { name: 'flowers', bytes: sampleModelBytes('iris'), labels: ['a', 'b'] }),
    ).rejects.toThrow(/2 labels given but the model's probabilities output has 3 classes/);
    await expect(
      publishModel(t.s3, t.bucket, { name: '../etc', bytes: sampleModelBytes('iris') }),
    ).rejects.toThrow(BadRequestError);
  });
});

describe('Registry', () => {
  beforeAll(async () => {
    for (let i = 0; i < 3; i++)
      await publishModel(t.s3, t.bucket, { name: 'line', bytes: sampleModelBytes('linear') });
  });

  it('lists models with their versions in numeric order', async () => {
    const registry = new Registry({ s3: t.s3, bucket: t.bucket, ttlSeconds: 0 });
    const models = await registry.listModels();
    expect(models.find((m) => m.name === 'line')?.versions).toEqual(['1', '2', '3']);
    expect(await registry.listVersions('line')).toEqual(['1', '2', '3']);
  });

  it('lists only folders that are model names: one put there by hand in S3 is no model any route serves', async () => {
    const manifest = await (
      await t.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: keys.manifest('line', '1') }))
    ).Body?.transformToString();
    for (const name of ['<b>x</b onclick=1>', 'Upper', '-dash'])
      await t.s3.send(
        new PutObjectCommand({ Bucket: t.bucket, Key: `models/${name}/1/manifest.json`, Body: manifest }),
      );
    const registry = new Registry({ s3: t.s3, bucket: t.bucket, ttlSeconds: 0 });
    const names = (await registry.listModels()).map((m) => m.name);
    expect(names).toContain('line');
    expect(names.filter((n) => !MODEL_NAME.test(n))).toEqual([]);
  });

  it('resolves an explicit version, else the highest when there is no production alias', async () => {
    const registry = new Registry({ s3: t.s3, bucket: t.bucket, ttlSeconds: 0 });
    expect((await registry.resolve('line')).version).toBe('3');
    expect((await registry.resolve('line', { version: '2' })).version).toBe('2');
  });

  it('routes a model without aliases from its listing, reading no missing aliases file', async () => {
    // A read of a missing file is S3's 404: an error thrown by the SDK and recorded by tracing.
    const s3 = localS3Client(t.store.url);
    const failed: string[] = [];
    const sent: string[] = [];
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        sent.push(context.commandName ?? '');
        try {
          return await next(args);
        } catch (error) {
          failed.push(`${context.commandName}: ${(error as Error).name}`);
          throw error;
        }
      },
      { step: 'initialize' },
    );
    const registry = new Registry({ s3, bucket: t.bucket, ttlSeconds: 60 });
    expect((await registry.resolve('line')).version).toBe('3');
    expect((await registry.resolve('line')).version).toBe('3');
    expect(failed).toEqual([]);
    expect(sent).toEqual(['ListObjectsV2Command', 'GetObjectCommand']);
    s3.destroy();
  });

  it('says which of model or version is unknown, and refuses names that are not names', async () => {
    const registry = new Registry({ s3: t.s3, bucket: t.bucket, ttlSeconds: 0 });
    await expect(registry.resolve('nope')).rejects.toThrow(new NotFoundError("model 'nope' not found"));
    await expect(registry.resolve('line', { version: '9' })).rejects.toThrow("model 'line' has no version 9");
    await expect(registry.resolve('line', { version: '01' })).rejects.toThrow(/expected a positive integer/);
    await expect(registry.resolve('Bad/Name')).rejects.toThrow(BadRequestError);
  });

  it('splits traffic by the production alias weights, sticky per route key', async () => {
    await putAliases('line', {
      production: {
        routes: [
          { version: '1', weight: 90 },
          { version: '2', weight: 10 },
        ],
      },
    });
    const registry = new Registry({ s3: t.s3, bucket: t.bucket, ttlSeconds: 60 });
    const counts: Record<string, number> = {};
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let i = 0; i < 2000; i++) {
      const { version } = await registry.resolve('line', { random });
      counts[version] = (counts[version] ?? 0) + 1;
    }
    expect(counts['3']).toBeUndefined();
    expect((counts['2'] ?? 0) / 2000).toBeGreaterThan(0.07);
    expect((counts['2'] ?? 0) / 2000).toBeLessThan(0.13);
    const sticky = await registry.resolve('line', { routeKey: 'user-42' });
    for (let i = 0; i < 20; i++)
      expect((await registry.resolve('line', { routeKey: 'user-42' })).version).toBe(sticky.version);
  });

  it('sees an alias change once the TTL has passed, not before', async () => {
    let clock = 0;
    const registry = new Registry({ s3: t.s3, bucket: t.bucket, ttlSeconds: 15, now: () => clock });
    await putAliases('line', { production: { routes: [{ version: '1', weight: 1 }] } });
    expect((await registry.resolve('line')).version).toBe('1');
    await putAliases('line', { production: { routes: [{ version: '3', weight: 1 }] } });
    clock = 14_000;
    expect((await registry.resolve('line')).version).toBe('1');
    clock = 15_000;
    expect((await registry.resolve('line')).version).toBe('3');
  });

  it('reports a malformed aliases file as a server-side integrity error', async () => {
    await putAliases('line', { production: { routes: [] } });
    const registry = new Registry({ s3: t.s3, bucket: t.bucket, ttlSeconds: 0 });
    await expect(registry.resolve('line')).rejects.toThrow(/aliases.json is malformed/);
  });
});

describe('pickRoute and hashToUnit', () => {
  it('maps [0, 1) across routes by weight', () => {
    const alias = {
      routes: [
        { version: '1', weight: 3 },
        { version: '2', weight: 1 },
      ],
    };
    expect(pickRoute(alias, 0)).toBe('1');
    expect(pickRoute(alias, 0.74)).toBe('1');
    expect(pickRoute(alias, 0.75)).toBe('2');
    expect(pickRoute({ routes: [{ version: '4', weight: 0 }] }, 0.5)).toBe('4');
  });

  it('hashes keys into [0, 1) deterministically', () => {
    expect(hashToUnit('a')).toBe(hashToUnit('a'));
    expect(hashToUnit('a')).not.toBe(hashToUnit('b'));
    expect(hashToUnit('x')).toBeGreaterThanOrEqual(0);
    expect(hashToUnit('x')).toBeLessThan(1);
  });
});

describe('hashToUnit spread', () => {
  it('splits sequential keys by weight as it splits random ones', () => {
    for (const prefix of ['customer-', 'user', 'req-2026-11-28-']) {
      const n = 10_000;
      let below = 0;
      for (let i = 0; i < n; i++) if (hashToUnit(`${prefix}${i}`) < 0.3) below++;
      // Binomial(10000, 0.3): sd 46.
      expect(Math.abs(below - 3000), prefix).toBeLessThan(5 * 46);
    }
  });
});
