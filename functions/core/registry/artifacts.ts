/**
 * Model files by content: downloaded from the model bucket once, checked against the manifest's sha256, and
 * cached on disk under their hash.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ModelIntegrityError, NotFoundError } from '../errors.ts';
import { isMissingKey, rethrowS3 } from '../s3.ts';
import { keys, type Manifest } from './manifest.ts';

export interface ArtifactStoreOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Disk cache folder (on Lambda, under /tmp). */
  readonly cacheDir: string;
  /** Told when the disk cache cannot be written; serving goes on from memory. */
  readonly onDiskError?: (error: unknown) => void;
}

export interface Artifact {
  readonly bytes: Uint8Array;
  /** Where the bytes came from. */
  readonly source: 'disk' | 's3';
}

/**
 * Model files by content: downloaded from S3 once, checked against the
 * manifest's sha256, kept on disk under their hash so a warm container (or a
 * local restart) never downloads the same file twice.
 */
export class ArtifactStore {
  constructor(private readonly options: ArtifactStoreOptions) {}

  async fetch(manifest: Manifest): Promise<Artifact> {
    const path = join(this.options.cacheDir, `${manifest.sha256}.onnx`);
    const cached = await readFile(path).catch(() => undefined);
    if (cached && cached.byteLength === manifest.sizeBytes) return { bytes: cached, source: 'disk' };

    const bytes = await this.download(manifest);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== manifest.sha256) {
      throw new ModelIntegrityError(
        `model '${manifest.name}' version ${manifest.version} is corrupt: its file has sha256 ${sha256} but the manifest says ${manifest.sha256}; republish the version`,
      );
    }
    await this.store(path, bytes);
    return { bytes, source: 's3' };
  }

  private async download(manifest: Manifest): Promise<Uint8Array> {
    const key = keys.modelFile(manifest.name, manifest.version);
    try {
      const object = await this.options.s3.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: key }),
      );
      if (!object.Body) throw new Error(`empty body for ${key}`);
      return await object.Body.transformToByteArray();
    } catch (error) {
      if (await isMissingKey(this.options, key, error)) {
        throw new NotFoundError(`model '${manifest.name}' version ${manifest.version} has no model file`);
      }
      rethrowS3(error, `the model file of '${manifest.name}' version ${manifest.version}`);
    }
  }

  /** Writes atomically (temp file, rename); a full disk is reported, not fatal. */
  private async store(path: string, bytes: Uint8Array): Promise<void> {
    const temp = `${path}.${randomUUID()}.part`;
    try {
      await mkdir(this.options.cacheDir, { recursive: true });
      await writeFile(temp, bytes);
      await rename(temp, path);
    } catch (error) {
      await unlink(temp).catch(() => {});
      this.options.onDiskError?.(error);
    }
  }
}
