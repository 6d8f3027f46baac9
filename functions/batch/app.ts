/**
 * The batch function's handler: SQS messages carrying S3 notifications for `batch/input/…` objects, each
 * object run as a batch job; a failed job's message is reported back for SQS to retry.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type BatchDependencies, runBatchJob } from '../core/batch/job.ts';
import type { Telemetry } from '../core/telemetry.ts';

interface S3Record {
  eventName?: string;
  s3?: { object?: { key?: string; eTag?: string; size?: number } };
}

/** An S3 notification key as S3 sends it: form-urlencoded, space as `+`. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, '%20'));
}

/**
 * The batch function: SQS messages carrying S3 notifications for
 * `batch/input/…` objects, one job each. A message whose job fails
 * transiently is reported back (ReportBatchItemFailures) and retried; after
 * N receives SQS moves it to the dead-letter queue.
 */
export function createBatchHandler(deps: BatchDependencies & { readonly telemetry: Telemetry }) {
  const processor = new BatchProcessor(EventType.SQS);
  const record = async (message: SQSRecord): Promise<void> => {
    const body = JSON.parse(message.body) as { Event?: string; Records?: S3Record[] };
    // S3 sends a test event when a notification is configured: nothing to do.
    if (body.Event === 's3:TestEvent' || !Array.isArray(body.Records)) return;
    for (const s3Record of body.Records) {
      const object = s3Record.s3?.object;
      if (!s3Record.eventName?.startsWith('ObjectCreated') || !object?.key) continue;
      const key = decodeS3Key(object.key);
      const manifest = await runBatchJob(deps, { key, eTag: object.eTag, size: object.size });
      if (manifest) {
        deps.telemetry.logger.info('batch job done', {
          key,
          status: manifest.status,
          rows: manifest.rows,
          failed: manifest.failed,
          ms: manifest.durationMs,
        });
      }
    }
  };
  return (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(event, record, processor, context ? { context } : {});
}
