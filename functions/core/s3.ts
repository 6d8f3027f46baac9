/**
 * The S3 client the functions share (path-style for an endpoint of one's own, as in local mode), and S3
 * failures read: a missing key, or a transient failure answered as a 503 to retry.
 */
import { ListObjectsV2Command, S3Client, type S3ClientConfig, S3ServiceException } from '@aws-sdk/client-s3';
import { ServiceUnavailableError } from './errors.ts';

/**
 * The S3 client the functions share. With an endpoint override (local mode)
 * it speaks path-style and sends checksums only when an operation needs them:
 * s3rver would otherwise store aws-chunked framing inside streamed objects.
 */
export function createS3Client(endpoint?: string, options: { timeoutMs?: number } = {}): S3Client {
  return new S3Client({
    ...(endpoint && endpointConfig(endpoint)),
    // Connection and idle-socket timeouts: a stalled store fails the attempt instead of hanging it.
    ...(options.timeoutMs !== undefined && {
      requestHandler: { connectionTimeout: options.timeoutMs, socketTimeout: options.timeoutMs },
    }),
  });
}

/** Client settings for an S3-compatible endpoint of one's own (s3rver, MinIO). */
export function endpointConfig(endpoint: string): S3ClientConfig {
  return {
    endpoint,
    forcePathStyle: true,
    region: process.env.AWS_REGION ?? 'us-east-1',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

/** True when S3 answered that the key (or bucket) does not exist. */
function isNotFound(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.name === 'NoSuchKey' || error.name === 'NotFound' || error.$metadata.httpStatusCode === 404)
  );
}

/**
 * Whether a read of `key` failed because the key does not exist. S3 answers a missing key with 404
 * only to a caller allowed s3:ListBucket on the bucket, and with 403 AccessDenied to others (GetObject,
 * "Permissions", in the S3 API reference). The functions may list only the prefixes they read (a
 * ListBucket conditioned on s3:prefix), so after a 403 the key is looked up by listing exactly it:
 * absent, the key is missing; present, or the listing refused too, the 403 stands.
 */
export async function isMissingKey(
  deps: { readonly s3: S3Client; readonly bucket: string },
  key: string,
  error: unknown,
): Promise<boolean> {
  if (isNotFound(error)) return true;
  if (!(error instanceof S3ServiceException) || error.$metadata.httpStatusCode !== 403) return false;
  try {
    const listed = await deps.s3.send(
      new ListObjectsV2Command({ Bucket: deps.bucket, Prefix: key, MaxKeys: 1 }),
    );
    return listed.Contents?.[0]?.Key !== key;
  } catch {
    return false;
  }
}

/**
 * Rethrows an S3 failure: transient ones (network, throttling, 5xx) as a 503
 * the client can retry, anything else unchanged as a server fault.
 */
export function rethrowS3(error: unknown, what: string): never {
  const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
  const transient =
    status === undefined || status >= 500 || status === 429 || (error as Error).name === 'SlowDown';
  if (transient) {
    throw new ServiceUnavailableError(`model store unavailable while reading ${what}; retry shortly`, {
      cause: error,
      retryAfterSeconds: 1,
    });
  }
  throw error;
}
