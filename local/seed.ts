/**
 * Local mode's sample models: each model under models/ published to the local registry, unless a version
 * with the same file is already there.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { publishModel } from '../cli/registry/publish.ts';
import type { Manifest } from '../functions/core/registry/manifest.ts';
import { Registry } from '../functions/core/registry/store.ts';

/** Folder of the sample models: models/<name>/{model.onnx,manifest.json}. */
export const SAMPLE_MODELS_DIR = new URL('../models/', import.meta.url).pathname;

/**
 * Publishes each sample model unless a version with the same file is already
 * in the registry. Returns what it published.
 */
export async function seedSampleModels(
  s3: S3Client,
  bucket: string,
  dir = SAMPLE_MODELS_DIR,
): Promise<Manifest[]> {
  const registry = new Registry({ s3, bucket, ttlSeconds: 0 });
  const published = await registry.listModels();
  const seeded: Manifest[] = [];
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name, 'model.onnx');
    if (!existsSync(file)) continue;
    const bytes = readFileSync(file);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const versions = published.find((m) => m.name === name)?.versions ?? [];
    const manifests = await Promise.all(versions.map((v) => registry.getManifest(name, v)));
    if (manifests.some((m) => m.sha256 === sha256)) continue;
    const meta = JSON.parse(readFileSync(join(dir, name, 'manifest.json'), 'utf8')) as Partial<Manifest>;
    seeded.push(
      await publishModel(s3, bucket, {
        name,
        bytes,
        description: meta.description,
        labels: meta.labels,
        features: meta.features,
        metrics: meta.metrics,
        source: meta.source,
      }),
    );
  }
  return seeded;
}
