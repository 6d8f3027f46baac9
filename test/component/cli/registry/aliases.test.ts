/**
 * The alias store against a real s3rver: canary, promote, shadow, rollback and history, racing promotions, guarded
 * deletes and refused input, and the S3 conditional writes it relies on.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AliasStore, HISTORY_LIMIT } from '../../../../cli/registry/aliases.ts';
import { publishModel } from '../../../../cli/registry/publish.ts';
import { BadRequestError, ConflictError, NotFoundError } from '../../../../functions/core/errors.ts';
import { keys } from '../../../../functions/core/registry/manifest.ts';
import { Registry } from '../../../../functions/core/registry/store.ts';
import { sampleModelBytes } from '../../../fixtures/models.ts';
import { startTestS3, type TestS3 } from '../../../fixtures/s3.ts';

let t: TestS3;
let store: AliasStore;
beforeAll(async () => {
  t = await startTestS3('aliases');
  store = new AliasStore(t.s3, t.bucket);
});
afterAll(() => t.close());

async function publish(name: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++)
    await publishModel(t.s3, t.bucket, { name, bytes: sampleModelBytes('linear') });
}

describe('local S3 conditional writes', () => {
  it('refuse If-None-Match: * on an existing key and If-Match with a stale ETag, as S3 does', async () => {
    const put = (body: string, condition: { IfNoneMatch?: string; IfMatch?: string }) =>
      t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: 'cond/x', Body: body, ...condition }));
    const first = await put('a', { IfNoneMatch: '*' });
    await expect(put('b', { IfNoneMatch: '*' })).rejects.toMatchObject({
      name: 'PreconditionFailed',
      $metadata: { httpStatusCode: 412 },
    });
    const second = await put('c', { IfMatch: first.ETag as string });
    await expect(put('d', { IfMatch: first.ETag as string })).rejects.toMatchObject({
      $metadata: { httpStatusCode: 412 },
    });
    await expect(put('e', { IfMatch: '"0123"' })).rejects.toMatchObject({
      $metadata: { httpStatusCode: 412 },
    });
    const object = await t.s3.send(new GetObjectCommand({ Bucket: t.bucket, Key: 'cond/x' }));
    expect(await object.Body?.transformToString()).toBe('c');
    expect(object.ETag).toBe(second.ETag);
  });
});

describe('AliasStore', () => {
  it('canaries against the serving version, promotes, and rolls back step by step', async () => {
    await publish('canary', 3);
    expect(await store.aliases('canary')).toEqual({});
    // No production alias: the latest version other than the canary serves the rest.
    await store.canary('canary', '3', 10);
    expect(await store.aliases('canary')).toEqual({
      production: {
        routes: [
          { version: '2', weight: 90 },
          { version: '3', weight: 10 },
        ],
      },
    });
    await store.canary('canary', '3', 25);
    expect((await store.aliases('canary')).production?.routes).toEqual([
      { version: '2', weight: 75 },
      { version: '3', weight: 25 },
    ]);
    await store.promote('canary', '3');
    expect(await store.aliases('canary')).toEqual({
      production: { routes: [{ version: '3', weight: 100 }] },
    });

    const history = await store.history('canary');
    expect(history.map((h) => h.action)).toEqual([
      'canary 3 at 10%',
      'canary 3 at 25%',
      'promote 3 to production',
    ]);

    const back = await store.rollback('canary');
    expect(back.action).toBe('roll back promote 3 to production');
    expect((await store.aliases('canary')).production?.routes).toEqual([
      { version: '2', weight: 75 },
      { version: '3', weight: 25 },
    ]);
    await store.rollback('canary');
    await store.rollback('canary');
    // Back to no production alias at all: the latest version serves.
    expect(await store.aliases('canary')).toEqual({});
    await expect(store.rollback('canary')).rejects.toThrow(/no earlier production routing to roll back to/);
  });

  it('shadows a version next to the production routes and stops shadowing', async () => {
    await publish('mirror', 2);
    await store.shadow('mirror', '2');
    expect(await store.aliases('mirror')).toEqual({
      production: { routes: [{ version: '2', weight: 100 }], shadow: '2' },
    });
    await store.promote('mirror', '1');
    expect((await store.aliases('mirror')).production).toEqual({
      routes: [{ version: '1', weight: 100 }],
      shadow: '2',
    });
    await store.shadow('mirror', undefined);
    expect((await store.aliases('mirror')).production).toEqual({ routes: [{ version: '1', weight: 100 }] });
  });

  it('takes effect for a registry once its cache expires', async () => {
    await publish('ttl', 2);
    let now = 0;
    const registry = new Registry({ s3: t.s3, bucket: t.bucket, ttlSeconds: 15, now: () => now });
    expect((await registry.resolve('ttl')).version).toBe('2');
    await store.promote('ttl', '1');
    expect((await registry.resolve('ttl')).version).toBe('2');
    now += 15_001;
    expect((await registry.resolve('ttl')).version).toBe('1');
  });

  it('loses no change when promotions race: each lands and history records them all', async () => {
    await publish('race', 8);
    const versions = ['1', '2', '3', '4', '5', '6', '7', '8'];
    await Promise.all(versions.map((v) => new AliasStore(t.s3, t.bucket).promote('race', v, `alias-${v}`)));
    const aliases = await store.aliases('race');
    expect(Object.keys(aliases).sort()).toEqual(versions.map((v) => `alias-${v}`));
    for (const v of versions)
      expect(aliases[`alias-${v}`]).toEqual({ routes: [{ version: v, weight: 100 }] });
    expect((await store.history('race')).length).toBe(8);
  });

  it('keeps the last 20 states', async () => {
    await publish('long', 2);
    for (let i = 0; i < HISTORY_LIMIT + 5; i++) await store.promote('long', String((i % 2) + 1));
    const history = await store.history('long');
    expect(history).toHaveLength(HISTORY_LIMIT);
    // The newest entry is the state the last promotion (to 1) replaced.
    expect(history.at(-1)?.aliases.production?.routes[0]?.version).toBe('2');
  });

  it('refuses to delete a version an alias routes or shadows to, or the version serving as latest', async () => {
    await publish('gone', 4);
    await expect(store.deleteVersion('gone', '4')).rejects.toThrow(
      /version 4 is the latest version of 'gone' and serves its traffic/,
    );
    await store.canary('gone', '2', 10);
    await store.shadow('gone', '3');
    await expect(store.deleteVersion('gone', '2')).rejects.toThrow(ConflictError);
    await expect(store.deleteVersion('gone', '3')).rejects.toThrow(/in use by alias production/);
    await expect(store.deleteVersion('gone', '4')).rejects.toThrow(/in use by alias production/);
    await store.deleteVersion('gone', '1');
    expect(await new Registry({ s3: t.s3, bucket: t.bucket, ttlSeconds: 0 }).listVersions('gone')).toEqual([
      '2',
      '3',
      '4',
    ]);
    await expect(store.deleteVersion('gone', '1')).rejects.toThrow(/model 'gone' has no version 1/);
  });

  it('rejects unknown models and versions, weights outside 0-100 and bad names', async () => {
    await publish('checks', 1);
    await expect(store.promote('nope', '1')).rejects.toThrow(/model 'nope' not found/);
    await expect(store.promote('checks', '9')).rejects.toThrow(NotFoundError);
    await expect(store.canary('checks', '1', 101)).rejects.toThrow(/expected a percentage from 0 to 100/);
    await expect(store.canary('checks', '1', -1)).rejects.toThrow(BadRequestError);
    await expect(store.canary('checks', '1', 10)).rejects.toThrow(/no other version serving traffic/);
    await expect(store.promote('checks', '1', 'Bad Alias')).rejects.toThrow(
      /alias name "Bad Alias" is invalid/,
    );
    await expect(store.promote('checks', 'v1')).rejects.toThrow(/expected a positive integer/);
  });

  it('reports a malformed aliases file instead of overwriting it', async () => {
    await publish('broken', 1);
    await t.s3.send(
      new PutObjectCommand({ Bucket: t.bucket, Key: keys.aliases('broken'), Body: '{"production": 1' }),
    );
    await expect(store.promote('broken', '1')).rejects.toThrow(/aliases.json is malformed/);
  });
});
