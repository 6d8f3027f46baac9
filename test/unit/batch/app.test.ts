/**
 * The batch handler's SQS adapter on hand-built events: S3 keys decoded as S3 encodes them, S3's test event and
 * non-create events ignored, and a failing message reported back for retry.
 */
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createBatchHandler, decodeS3Key } from '../../../functions/batch/app.ts';
import type { BatchDependencies } from '../../../functions/core/batch/job.ts';
import { createTelemetry } from '../../../functions/core/telemetry.ts';

describe('batch handler: S3 notifications through SQS', () => {
  it('decodes keys as S3 encodes them (form encoding, space as +)', () => {
    expect(decodeS3Key('batch/input/iris/my+file%282%29.csv')).toBe('batch/input/iris/my file(2).csv');
    expect(decodeS3Key('batch/input/iris/a%2Bb.csv')).toBe('batch/input/iris/a+b.csv');
  });

  it("ignores S3's test event and non-create events, and reports a failing message for retry", async () => {
    const seen: string[] = [];
    const deps = {
      s3: {
        send: async (command: { input: { Key?: string } }) => {
          seen.push(command.input.Key ?? '');
          throw Object.assign(new Error('S3 is down'), {
            name: 'InternalError',
            $metadata: { httpStatusCode: 500 },
          });
        },
      },
      bucket: 'b',
      telemetry: createTelemetry('test'),
    } as unknown as BatchDependencies & { telemetry: ReturnType<typeof createTelemetry> };
    const handler = createBatchHandler(deps);
    const message = (id: string, body: unknown) => ({
      messageId: id,
      body: JSON.stringify(body),
      attributes: {},
      eventSource: 'aws:sqs',
    });
    const event = {
      Records: [
        message('test', { Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'b' }),
        message('delete', {
          Records: [{ eventName: 'ObjectRemoved:Delete', s3: { object: { key: 'batch/input/iris/x.csv' } } }],
        }),
        message('put', {
          Records: [
            {
              eventName: 'ObjectCreated:Put',
              s3: { object: { key: 'batch/input/iris/my+file.csv', eTag: 'e', size: 3 } },
            },
          ],
        }),
      ],
    } as unknown as SQSEvent;
    const result = await handler(event);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'put' }] });
    // Only the created object was looked at, by its decoded key.
    expect(seen).toEqual(['batch/output/iris/my file.csv.manifest.json']);
  });
});
