/**
 * JSON objects in S3 read with their ETag and written only if nobody changed them since
 * (`If-Match`, or `If-None-Match: *` for a new object): optimistic concurrency for the registry's writes.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { ModelIntegrityError } from '../../functions/core/errors.ts';
import { isMissingKey } from '../../functions/core/s3.ts';

/** A value and the ETag of the object it was read from (undefined: the object does not exist). */
export interface Versioned<T> {
  readonly value: T;
  readonly etag: string | undefined;
}

/** The object at `key` parsed by `parse`, or `absent` when there is none. @throws ModelIntegrityError when malformed. */
export async function readVersionedJson<T>(
  s3: S3Client,
  bucket: string,
  key: string,
  absent: T,
  parse: (value: unknown) => { success: true; data: T } | { success: false },
): Promise<Versioned<T>> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const text = (await object.Body?.transformToString()) ?? '';
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    const parsed = parse(value);
    if (!parsed.success) throw new ModelIntegrityError(`${key} is malformed; fix or delete it`);
    return { value: parsed.data, etag: object.ETag };
  } catch (error) {
    if (await isMissingKey({ s3, bucket }, key, error)) return { value: absent, etag: undefined };
    throw error;
  }
}

/** A conditional write: false when someone else changed the object since `etag` was read. */
export async function writeIfUnchanged(
  s3: S3Client,
  bucket: string,
  key: string,
  value: unknown,
  etag: string | undefined,
): Promise<boolean> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: `${JSON.stringify(value, null, 2)}\n`,
        ContentType: 'application/json',
        ...(etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: etag }),
      }),
    );
    return true;
  } catch (error) {
    const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
    if (status === 412 || status === 409) return false;
    throw error;
  }
}
