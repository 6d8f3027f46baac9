/**
 * Publishing to the model registry: an ONNX file becomes the next immutable version of a model (its
 * `model.onnx` and `manifest.json`), each written only if absent, so concurrent publishers never collide.
 */
import { createHash } from 'node:crypto';
import { ListObjectsV2Command, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { BadRequestError } from '../../functions/core/errors.ts';
import {
  checkModelName,
  keys,
  type Manifest,
  ManifestSchema,
} from '../../functions/core/registry/manifest.ts';
import { describeOnnx } from '../../functions/core/runners/onnx/runtime.ts';
import { writeIfUnchanged } from './versioned-json.ts';
import { rewriteZipMap } from './zipmap.ts';

export interface PublishRequest {
  readonly name: string;
  /** The ONNX file. */
  readonly bytes: Uint8Array;
  readonly description?: string | undefined;
  /** Class names for a classifier's integer `label` output. */
  readonly labels?: readonly string[] | undefined;
  /** Feature names of a single `[N, F]` input. */
  readonly features?: readonly string[] | undefined;
  readonly metrics?: Readonly<Record<string, number>> | undefined;
  readonly source?: string | undefined;
  readonly now?: () => Date;
  /** Told of upload progress of the model file (bytes sent, bytes in all). */
  readonly onProgress?: (loaded: number, total: number) => void;
  /** Files larger than this go up as multipart uploads of parts this size (S3's minimum: 5 MiB). @default 8 MiB */
  readonly partBytes?: number;
}

/**
 * Publishes an ONNX file as the next immutable version of a model: reads its
 * inputs and outputs from the graph, computes sha256 and size, writes
 * `model.onnx` then `manifest.json` (the manifest makes the version visible).
 * A classifier with a ZipMap output (skl2onnx's default) is stored rewritten:
 * probabilities as an [N, C] tensor, its class labels in the manifest
 * (`classifier.rewritten: 'ZipMap'`).
 * Both writes are conditional (`If-None-Match: *`), so two concurrent
 * publishers never overwrite one version; the loser takes the next number.
 *
 * @example
 * const manifest = await publishModel(s3, 'my-bucket', { name: 'iris', bytes, labels: ['a', 'b', 'c'] });
 * // manifest.version === '1' for a new model
 */
export async function publishModel(s3: S3Client, bucket: string, request: PublishRequest): Promise<Manifest> {
  const name = checkModelName(request.name);
  const { bytes, classifier, labels } = withoutZipMap(request);
  const { inputs, outputs } = await describeOnnx(bytes);
  if (classifier) {
    classifier.label = outputs.find((o) => o.name !== classifier.probabilities)?.name ?? classifier.label;
  }
  checkMetadata({ ...request, labels }, inputs, outputs, classifier?.probabilities);
  const sha256 = createHash('sha256').update(bytes).digest('hex');

  for (let attempt = 0; attempt < 5; attempt++) {
    const version = String((await highestVersion(s3, bucket, name)) + 1);
    const manifest = ManifestSchema.parse({
      name,
      version,
      format: 'onnx',
      inputs,
      outputs,
      ...(labels && { labels: [...labels] }),
      ...(classifier && { classifier }),
      ...(request.features && { features: [...request.features] }),
      sha256,
      sizeBytes: bytes.byteLength,
      createdAt: (request.now?.() ?? new Date()).toISOString(),
      ...(request.description && { description: request.description }),
      ...(request.metrics && { metrics: { ...request.metrics } }),
      ...(request.source && { source: request.source }),
    });
    const written =
      (await putIfAbsent(s3, bucket, keys.modelFile(name, version), bytes, 'application/octet-stream', {
        onProgress: request.onProgress,
        partBytes: request.partBytes,
      })) &&
      // The manifest last, only if absent: it makes the version visible.
      (await writeIfUnchanged(s3, bucket, keys.manifest(name, version), manifest, undefined));
    if (written) return manifest;
  }
  throw new Error(`could not publish '${name}': five concurrent publishers took every version number tried`);
}

/** The file as stored: a ZipMap rewritten (labels from its attributes unless given), or as it is. */
function withoutZipMap(request: PublishRequest): {
  bytes: Uint8Array;
  labels: readonly string[] | undefined;
  classifier?: NonNullable<Manifest['classifier']>;
} {
  let rewrite: ReturnType<typeof rewriteZipMap>;
  try {
    rewrite = rewriteZipMap(request.bytes);
  } catch (error) {
    throw new BadRequestError(`cannot publish a model with a ZipMap output: ${(error as Error).message}`);
  }
  if (!rewrite) return { bytes: request.bytes, labels: request.labels };
  return {
    bytes: rewrite.bytes,
    labels: request.labels ?? rewrite.labels,
    classifier: {
      label: '',
      probabilities: rewrite.probabilities,
      labelKind: rewrite.labelKind,
      rewritten: 'ZipMap',
    },
  };
}

function checkMetadata(
  request: PublishRequest,
  inputs: Manifest['inputs'],
  outputs: Manifest['outputs'],
  probabilitiesName = 'probabilities',
): void {
  const probabilities = outputs.find((o) => o.name === probabilitiesName);
  const classes = probabilities?.shape[probabilities.shape.length - 1];
  if (request.labels && classes !== undefined && classes > 0 && classes !== request.labels.length) {
    throw new BadRequestError(
      `${request.labels.length} labels given but the model's probabilities output has ${classes} classes`,
    );
  }
  const features = inputs.length === 1 ? inputs[0]?.shape[1] : undefined;
  if (
    request.features &&
    (features === undefined || (features > 0 && features !== request.features.length))
  ) {
    throw new BadRequestError(
      `${request.features.length} feature names given but the model's input has shape ${JSON.stringify(inputs[0]?.shape)}`,
    );
  }
}

/** Highest version folder of a model, manifest or not (a half-written version still takes its number). */
async function highestVersion(s3: S3Client, bucket: string, name: string): Promise<number> {
  let highest = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: keys.model(name), ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) {
      const match = /^models\/[^/]+\/([1-9][0-9]*)\//.exec(object.Key ?? '');
      if (match?.[1]) highest = Math.max(highest, Number(match[1]));
    }
    token = page.NextContinuationToken;
  } while (token);
  return highest;
}

/**
 * Writes `key` unless it exists. Bodies over one part go up as a multipart
 * upload, whose completion carries the same condition.
 */
async function putIfAbsent(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Uint8Array,
  contentType: string,
  options: {
    onProgress?: ((loaded: number, total: number) => void) | undefined;
    partBytes?: number | undefined;
  } = {},
): Promise<boolean> {
  const { onProgress } = options;
  const total = body.byteLength;
  try {
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType, IfNoneMatch: '*' },
      partSize: options.partBytes ?? PART_BYTES,
      queueSize: 4,
      leavePartsOnError: false,
    });
    if (onProgress) upload.on('httpUploadProgress', (p) => onProgress(p.loaded ?? 0, p.total ?? total));
    await upload.done();
    return true;
  } catch (error) {
    const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
    if (status === 412 || status === 409) return false;
    throw error;
  }
}

/** Multipart part size for model files. */
const PART_BYTES = 8 * 1024 * 1024;
