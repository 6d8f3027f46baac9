/**
 * Lambda entry of the chat function (response streaming): a SageMaker runner per large model, built once,
 * then the streaming chat handler.
 */
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { readEnv } from '../core/env.ts';
import { SageMakerRunner } from '../core/runners/sagemaker.ts';
import { lambdaStreaming } from '../core/streaming.ts';
import { createTelemetry, traceClient } from '../core/telemetry.ts';
import { usageFromEnv } from '../core/usage/from-env.ts';
import { holdUntilWritten } from '../core/usage/lambda-flush.ts';
import { createChatHandler } from './app.ts';

/** Lambda entry of the chat function (response streaming): module singletons, then the handler. */
// The chat function reads no models from S3: the stack gives it no bucket.
const env = readEnv(process.env, { modelBucket: false });
const telemetry = createTelemetry('modelgate-chat');
const runtime = lambdaStreaming();
const raw = new SageMakerRuntimeClient(env.sagemakerEndpoint ? { endpoint: env.sagemakerEndpoint } : {});
const client = env.tracing ? await traceClient(raw, 'modelgate-chat') : raw;

const usage = usageFromEnv(env, telemetry.logger);
/** The usage recorder of this process, for local mode and tests to wait on. */
export const usageRecorder = usage?.recorder;
const limits = usage?.limits;
// On Lambda: the environment is not frozen before an invocation's usage is written (registered during init).
const flushing = await holdUntilWritten(
  env.lambdaRuntimeApi,
  usage?.recorder,
  'modelgate-usage-chat',
  telemetry.logger,
);

const chat = createChatHandler({
  models: new Map(env.largeModels.map((m) => [m.name, new SageMakerRunner(client, m)])),
  telemetry,
  usage: usageRecorder,
  ...(limits && { admit: limits.admit.bind(limits) }),
  open: (stream, metadata) => runtime.HttpResponseStream.from(stream, metadata),
});

export const handler = runtime.streamifyResponse((event, stream, context) =>
  flushing.track(context?.awsRequestId, chat(event, stream, context)),
);
