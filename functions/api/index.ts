/**
 * Lambda entry of the api function: the registry, ONNX runtime, telemetry and SageMaker tensor endpoints,
 * built once from the function's environment, then the handler of each REST proxy event.
 */

import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import pkg from '../../package.json' with { type: 'json' };
import { readEnv } from '../core/env.ts';
import { readMetrics } from '../core/metrics/cloudwatch.ts';
import { Registry } from '../core/registry/store.ts';
import { modelRuntime } from '../core/runners/onnx/from-env.ts';
import type { SageMakerRunner } from '../core/runners/sagemaker.ts';
import { createS3Client } from '../core/s3.ts';
import { createTelemetry, traceClient } from '../core/telemetry.ts';
import { usageFromEnv } from '../core/usage/from-env.ts';
import { holdUntilWritten } from '../core/usage/lambda-flush.ts';
import { readUsage } from '../core/usage/report.ts';
import { createApiHandler } from './app.ts';

/** Lambda entry of the api function: module singletons, then the handler. */
const env = readEnv();
const telemetry = createTelemetry('modelgate-api');
// Requests are short: a store that stalls answers 503 (Retry-After) after the SDK's retries.
const client = createS3Client(env.s3Endpoint, { timeoutMs: env.s3TimeoutMs });
const s3 = env.tracing ? await traceClient(client, 'modelgate-api') : client;
const usage = usageFromEnv(env, telemetry.logger);
// On Lambda: the environment is not frozen before an invocation's usage is written (registered during init).
const flushing = await holdUntilWritten(
  env.lambdaRuntimeApi,
  usage?.recorder,
  'modelgate-usage-api',
  telemetry.logger,
);
const cloudwatch =
  env.cloudwatchMetrics && new CloudWatchClient({ endpoint: env.cloudwatchMetrics.endpoint });

const api = createApiHandler({
  registry: new Registry({ s3, bucket: env.modelBucket, ttlSeconds: env.registryTtlSeconds }),
  // Trees compiled after a model's first answer: a cold start does not wait for it.
  runtime: modelRuntime(s3, env, telemetry, { onLoad: telemetry.recordModelLoad, trees: 'background' }),
  telemetry,
  maxElements: env.maxElements,
  batch: { s3, bucket: env.modelBucket },
  largeModels: env.largeModels,
  tensorEndpoints: await tensorEndpoints(),
  server: { name: 'modelgate', version: pkg.version },
  assetsDir: env.assetsDir,
  ...(cloudwatch && { metrics: () => readMetrics(cloudwatch) }),
  ...(usage && {
    usage: {
      sink: usage.recorder,
      report: (keyId, range) => readUsage(usage.client, usage.table, range, keyId),
      ...(usage.limits && { admit: usage.limits.admit.bind(usage.limits) }),
    },
  }),
});

/** The usage recorder of this process, for local mode and tests to wait on. */
export const usageRecorder = usage?.recorder;

export const handler = (event: APIGatewayProxyEvent, context?: Context): Promise<APIGatewayProxyResult> => {
  // Lambda runs one request at a time per environment: the logger may carry its context.
  if (context) telemetry.logger.addContext(context);
  return flushing.track(context?.awsRequestId, api(event));
};

/**
 * Runners of the large models that speak V2 tensors, on one SageMaker Runtime
 * client, if there are any. Loaded only then: the client's module costs the
 * cold start time that ONNX-only deployments need not pay.
 */
async function tensorEndpoints(): Promise<Map<string, SageMakerRunner>> {
  const tensor = env.largeModels.filter((m) => m.protocol === 'v2');
  if (tensor.length === 0) return new Map();
  const [{ SageMakerRuntimeClient }, { SageMakerRunner }] = await Promise.all([
    import('@aws-sdk/client-sagemaker-runtime'),
    import('../core/runners/sagemaker.ts'),
  ]);
  const client = new SageMakerRuntimeClient(env.sagemakerEndpoint ? { endpoint: env.sagemakerEndpoint } : {});
  return new Map(tensor.map((m) => [m.name, new SageMakerRunner(client, m)]));
}
