/**
 * Lambda entry of a large batch job's chunk step: scores the rows the Step Functions Distributed Map hands it
 * and writes their output lines to a part object (see core/batch/chunks.ts).
 */
import { type ChunkEvent, scoreChunk } from '../core/batch/chunks.ts';
import { readEnv } from '../core/env.ts';
import { Registry } from '../core/registry/store.ts';
import { createS3Client } from '../core/s3.ts';
import { createTelemetry } from '../core/telemetry.ts';
import { batchRuntime } from './runtime.ts';

/** Lambda entry of the Distributed Map's item processor: one batch of items per call. */
const env = readEnv();
const s3 = createS3Client(env.s3Endpoint);
const telemetry = createTelemetry('modelgate-batch-chunk');
const runtime = batchRuntime(s3, env, telemetry);
const deps = {
  s3,
  bucket: env.modelBucket,
  registry: new Registry({ s3, bucket: env.modelBucket, ttlSeconds: env.registryTtlSeconds }),
  runnerFor: runtime.runner.bind(runtime),
};

export const handler = (event: ChunkEvent) => scoreChunk(deps, event);
