/**
 * Reading a key that may not exist, against s3rver as local mode runs it: S3's 403 for a missing key
 * to a caller that may not list the whole bucket, and `isMissingKey` telling that from a real refusal.
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMissingKey } from '../../../functions/core/s3.ts';
import { startTestS3, type TestS3 } from '../../fixtures/s3.ts';

let t: TestS3;
beforeAll(async () => {
  t = await startTestS3();
});
afterAll(() => t.close());

/** The error a read of `key` fails with. */
async function failure(command: GetObjectCommand | HeadObjectCommand): Promise<S3ServiceException> {
  const error = await t.s3.send(command as GetObjectCommand).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(S3ServiceException);
  return error as S3ServiceException;
}

describe('a key that is not there', () => {
  it.each([
    // As S3 answers a caller that may not list the whole bucket: every deployed function.
    { key: 'batch/output/iris/rows.jsonl.manifest.json', name: 'AccessDenied', status: 403 },
    { key: 'batch/keys/team-a/missing.csv', name: 'AccessDenied', status: 403 },
    { key: 'models/iris/9/model.onnx', name: 'AccessDenied', status: 403 },
  ])('$key: $status $name, read as missing', async ({ key, name, status }) => {
    const get = await failure(new GetObjectCommand({ Bucket: t.bucket, Key: key }));
    const head = await failure(new HeadObjectCommand({ Bucket: t.bucket, Key: key }));
    expect([get.name, get.$metadata.httpStatusCode, head.$metadata.httpStatusCode]).toEqual([
      name,
      status,
      status,
    ]);
    expect([await isMissingKey(t, key, get), await isMissingKey(t, key, head)]).toEqual([true, true]);
  });

  it('is not what a 403 on a key that exists means, nor any other failure', async () => {
    const key = 'batch/keys/team-a/rows.jsonl';
    await t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: key, Body: '[1]\n' }));
    // A refusal of a key that is there (a bucket policy, a KMS key) cannot be produced on s3rver: built here.
    const denied = new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'Access Denied',
    });
    expect(await isMissingKey(t, key, denied)).toBe(false);
    // A longer key beginning with the same characters does not count as this one.
    expect(await isMissingKey(t, 'batch/keys/team-a/rows.json', denied)).toBe(true);
    expect(await isMissingKey(t, key, new Error('socket hang up'))).toBe(false);
  });
});
