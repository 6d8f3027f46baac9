/**
 * Models the browser test publishes beside the seeded ones: `hostile`, with markup in every text
 * field of its manifest (and a folder named with markup), and `canary`, production split 90/10
 * between two versions with a shadow.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { type Aliases, keys } from '../../functions/core/registry/manifest.ts';
import type { TestTopology } from '../fixtures/local.ts';

export const HOSTILE = '<img src=x onerror="alert(1)">';

/** The canary model's production alias: version 1 at 90 %, version 2 at 10 %, version 3 in shadow. */
export const CANARY: Aliases = {
  production: {
    routes: [
      { version: '1', weight: 90 },
      { version: '2', weight: 10 },
    ],
    shadow: '3',
  },
};

async function read(api: TestTopology, key: string): Promise<Uint8Array> {
  const object = await api.s3.send(new GetObjectCommand({ Bucket: api.bucket, Key: key }));
  return (await object.Body?.transformToByteArray()) as Uint8Array;
}

async function put(api: TestTopology, key: string, body: Uint8Array | string): Promise<void> {
  await api.s3.send(new PutObjectCommand({ Bucket: api.bucket, Key: key, Body: body }));
}

/** Publishes iris's model file as `name` version `version`, its manifest changed by `changes`. */
async function copyIris(
  api: TestTopology,
  name: string,
  version: string,
  changes: (manifest: Record<string, unknown>) => Record<string, unknown> = (m) => m,
): Promise<void> {
  const manifest = JSON.parse(new TextDecoder().decode(await read(api, keys.manifest('iris', '1'))));
  await put(api, keys.modelFile(name, version), await read(api, keys.modelFile('iris', '1')));
  await put(api, keys.manifest(name, version), JSON.stringify(changes({ ...manifest, name, version })));
}

/**
 * Publishes iris's model file again as `hostile`, with markup in every text field of its manifest,
 * and puts a manifest by hand under a folder named with markup, which is no model name.
 */
export async function publishHostile(api: TestTopology): Promise<void> {
  await put(api, `models/${HOSTILE}/1/manifest.json`, await read(api, keys.manifest('iris', '1')));
  await copyIris(api, 'hostile', '1', (manifest) => ({
    ...manifest,
    description: `<script>alert(1)</script>${HOSTILE}`,
    labels: [HOSTILE, '<b>bold</b>', 'plain'],
    features: (manifest.features as string[]).map((f, i) => (i === 0 ? HOSTILE : f)),
  }));
}

/** Publishes iris's model file as `canary` versions 1 to 3, routed by {@link CANARY}. */
export async function publishCanary(api: TestTopology): Promise<void> {
  for (const version of ['1', '2', '3']) await copyIris(api, 'canary', version);
  await put(api, keys.aliases('canary'), JSON.stringify(CANARY));
}
