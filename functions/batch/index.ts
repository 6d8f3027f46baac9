/**
 * Lambda entry of the batch function: the S3 client, ONNX runtime, SageMaker runners of the language models
 * and, for large files, the Step Functions start, built once; then the SQS handler.
 */
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { readEnv } from '../core/env.ts';
import { Registry } from '../core/registry/store.ts';
import { SageMakerRunner } from '../core/runners/sagemaker.ts';
import { createS3Client } from '../core/s3.ts';
import { createTelemetry, traceClient } from '../core/telemetry.ts';
import { createBatchHandler } from './app.ts';
import { batchRuntime } from './runtime.ts';

/** Lambda entry of the batch function: module singletons, then the handler. */
const env = readEnv();
const telemetry = createTelemetry('modelgate-batch');
const client = createS3Client(env.s3Endpoint);
const s3 = env.tracing ? await traceClient(client, 'modelgate-batch') : client;
const runtime = batchRuntime(s3, env, telemetry, telemetry.recordModelLoad);

const sagemaker = new SageMakerRuntimeClient(
  env.sagemakerEndpoint ? { endpoint: env.sagemakerEndpoint } : {},
);
const languageModels = new Map(
  env.largeModels.filter((m) => m.protocol !== 'v2').map((m) => [m.name, new SageMakerRunner(sagemaker, m)]),
);

const large = env.largeBatch;
const sfn = large ? new SFNClient({}) : undefined;

export const handler = createBatchHandler({
  languageModels,
  ...(large &&
    sfn && {
      largeFiles: {
        thresholdBytes: large.thresholdBytes,
        start: async (input) => {
          await sfn.send(
            new StartExecutionCommand({
              stateMachineArn: large.stateMachineArn,
              // Execution names are unique for 90 days: one per input version.
              name: `${input.eTag ?? 'job'}-${Date.now()}`.slice(0, 80),
              input: JSON.stringify(input),
            }),
          );
        },
      },
    }),
  s3,
  bucket: env.modelBucket,
  registry: new Registry({ s3, bucket: env.modelBucket, ttlSeconds: env.registryTtlSeconds }),
  runnerFor: (manifest) => runtime.runner(manifest),
  telemetry,
});
