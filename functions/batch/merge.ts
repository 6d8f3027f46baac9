/**
 * Lambda entry of a large batch job's last step: the Distributed Map's part objects merged into the job's
 * output file and manifest (see core/batch/chunks.ts).
 */
import { type MergeEvent, mergeChunks } from '../core/batch/chunks.ts';
import { readEnv } from '../core/env.ts';
import { createS3Client } from '../core/s3.ts';

/** Lambda entry of the Distributed Map's last step: parts to output and manifest. */
const env = readEnv();
const deps = { s3: createS3Client(env.s3Endpoint), bucket: env.modelBucket };

export const handler = (event: MergeEvent) => mergeChunks(deps, event);
