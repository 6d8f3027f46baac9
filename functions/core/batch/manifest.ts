/** The manifest of a batch job (`batch/output/<model>/<file>.manifest.json`): its shape, its id, its final status, reading it back. */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isMissingKey } from '../s3.ts';

export const BATCH_STATUSES = ['running', 'succeeded', 'completed_with_errors', 'empty', 'failed'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

/** `batch/output/<model>/<file>.manifest.json`: what a job read, what it wrote, how it went. */
export interface BatchManifest {
  readonly id: string;
  readonly status: BatchStatus;
  readonly input: {
    readonly key: string;
    readonly eTag: string | undefined;
    readonly size: number | undefined;
  };
  readonly output?: string;
  readonly model?: string;
  readonly version?: string;
  readonly rows: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly blankLines: number;
  readonly startedAt: string;
  readonly finishedAt?: string;
  readonly durationMs?: number;
  readonly rowsPerSecond?: number;
  /** Time spent in the model, for telling model time from parsing and I/O. */
  readonly modelMs?: number;
  /** `distributed` when a Step Functions Distributed Map scores the file. */
  readonly mode?: 'single' | 'distributed';
  readonly error?: string;
}

/** What a manifest says beyond its id, start and (zero by default) counts. */
export type ManifestFields = Omit<
  BatchManifest,
  'id' | 'startedAt' | 'rows' | 'succeeded' | 'failed' | 'blankLines'
> &
  Partial<Pick<BatchManifest, 'rows' | 'succeeded' | 'failed' | 'blankLines'>>;

/** The status of a finished job, from what it read and scored. */
export function finalStatus(job: {
  readonly error?: string | undefined;
  readonly rows: number;
  readonly failed: number;
}): BatchStatus {
  if (job.error) return 'failed';
  if (job.rows === 0) return 'empty';
  return job.failed > 0 ? 'completed_with_errors' : 'succeeded';
}

export const TERMINAL: ReadonlySet<BatchStatus> = new Set([
  'succeeded',
  'completed_with_errors',
  'empty',
  'failed',
]);

/** The job id of an input key: its path under `batch/input/`, URL-safe. */
export function jobId(inputKey: string): string {
  return Buffer.from(inputKey).toString('base64url');
}

/** The manifest at `key`, if there is one. */
export async function readManifest(
  deps: { readonly s3: S3Client; readonly bucket: string },
  key: string,
): Promise<BatchManifest | undefined> {
  try {
    const object = await deps.s3.send(new GetObjectCommand({ Bucket: deps.bucket, Key: key }));
    const text = (await object.Body?.transformToString()) ?? '';
    try {
      return JSON.parse(text) as BatchManifest;
    } catch {
      // An unreadable manifest says nothing reliable: the job runs again (its output is idempotent).
      return undefined;
    }
  } catch (error) {
    if (await isMissingKey(deps, key, error)) return undefined;
    throw error;
  }
}
