/** How `npm start` is configured: the local topology's options, read from `MODELGATE_*` variables with their defaults. */
import { resolve } from 'node:path';
import type { ModelGateConfig } from '../infra/config.ts';
import type { Plan } from './gateway/usage-plans.ts';
import { PORTS, portFromEnv } from './ports.ts';

export interface LocalOptions {
  readonly config: ModelGateConfig;
  /** Data folder: s3rver's objects, the dev API key, the model file cache. */
  readonly home: string;
  /** API port; 0 for an ephemeral one. */
  readonly port: number;
  /** S3 port; 0 for an ephemeral one. */
  readonly s3Port: number;
  readonly bucket: string;
  /** The dev API key; generated once and kept in `home` when absent. */
  readonly apiKey?: string | undefined;
  /** Usage plan of the dev key; the config's plan for its first key by default. */
  readonly plan?: Plan;
  /** Gateway integration timeout of buffered routes; API Gateway's 29 s by default. */
  readonly timeoutMs?: number;
  /** Gateway integration timeout of the streamed chat routes; the config's `chat.timeoutSeconds` by default. */
  readonly streamTimeoutMs?: number;
  /** How long a streamed answer may go without a byte; 5 minutes by default, as on a Regional endpoint. */
  readonly streamIdleTimeoutMs?: number;
  /** Publish the sample models when absent (default true). */
  readonly seed?: boolean;
  /** DynamoDB emulator port (the usage table); 0 for an ephemeral one. */
  readonly dynamoPort?: number;
  /** Record usage per API key (default true); false gives the functions no usage table, as a stack without one. */
  readonly usage?: boolean;
  /** SageMaker Runtime emulator port; 0 for an ephemeral one. */
  readonly sagemakerPort?: number;
  /** How long the SageMaker emulator waits on a container, as SageMaker's 60 s (the default). */
  readonly sagemakerInvocationTimeoutMs?: number;
  /** Serve the demo language model through the SageMaker emulator (default true). */
  readonly languageModels?: boolean;
  /** Told of container starts, exits and restarts. */
  readonly onEvent?: (event: string) => void;
  /** Where the gateway writes one access-log line per request (nowhere by default). */
  readonly accessLog?: (line: string) => void;
  /** Visibility timeout of the local batch queue (default 60 s); failed jobs are retried after it. */
  readonly batchVisibilityTimeoutMs?: number;
}

/** Options from `MODELGATE_*` variables, with the documented defaults. */
export function localOptionsFromEnv(
  config: ModelGateConfig,
  env: NodeJS.ProcessEnv = process.env,
): LocalOptions {
  return {
    config,
    home: resolve(env.MODELGATE_HOME || '.modelgate'),
    port: portFromEnv(env, PORTS.api),
    s3Port: portFromEnv(env, PORTS.s3),
    bucket: env.MODELGATE_BUCKET || 'modelgate',
    apiKey: env.MODELGATE_API_KEY || undefined,
    sagemakerPort: portFromEnv(env, PORTS.sagemaker),
    dynamoPort: portFromEnv(env, PORTS.dynamodb),
    timeoutMs: millis(env, 'MODELGATE_GATEWAY_TIMEOUT_MS'),
    streamTimeoutMs: millis(env, 'MODELGATE_STREAM_TIMEOUT_MS'),
    streamIdleTimeoutMs: millis(env, 'MODELGATE_STREAM_IDLE_TIMEOUT_MS'),
  };
}

/** A positive number of milliseconds from `name`, or undefined when unset. */
function millis(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`${name} must be a whole number of milliseconds (1 or more), got '${raw}'`);
  }
  return value;
}
