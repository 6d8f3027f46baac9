/**
 * The local topology `npm start` runs: s3rver, the DynamoDB emulator, the SageMaker Runtime emulator and its
 * containers, the batch queue, and the gateway emulator in front of the same handler modules the Lambdas run.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { buildAssets } from '../console/build.ts';
import { API_ROUTES, BODY_SCHEMAS } from '../functions/api/routes.ts';
import { CHAT_ROUTES } from '../functions/chat/routes.ts';
import { BATCH_INPUT } from '../functions/core/batch/layout.ts';
import { processCounters } from '../functions/core/counters.ts';
import { ENV, type LargeModelBinding } from '../functions/core/env.ts';
import type { Manifest } from '../functions/core/registry/manifest.ts';
import type { StreamingHandler } from '../functions/core/streaming.ts';
import { protocolOf } from '../infra/config.ts';
import { apiFunctionEnvironment } from '../infra/function-env.ts';
import { gatewayKeys, keyLimitsEnv } from './api-keys.ts';
import type { DemoLmMode } from './containers/demo-lm/server.ts';
import { type Container, demoLmContainer } from './containers/supervisor.ts';
import { LOCAL_USAGE_FLUSH_MS, startUsageTable, USAGE_TABLE } from './dynamodb.ts';
import { type GatewayRoute, type LocalGateway, type ProxyHandler, startGateway } from './gateway/gateway.ts';
import { installLambdaStreamingRuntime } from './gateway/lambda-runtime.ts';
import { type LocalOptions, localOptionsFromEnv } from './options.ts';
import { claimPort, PORTS } from './ports.ts';
import { LocalQueue } from './queue.ts';
import { type LocalS3, localS3Client, S3RVER_CREDENTIALS, startLocalS3 } from './s3.ts';
import { componentBinding, componentTarget } from './sagemaker/components.ts';
import { type EndpointTarget, startSageMakerEmulator } from './sagemaker/emulator.ts';
import { seedSampleModels } from './seed.ts';

export interface LocalTopology {
  readonly apiUrl: string;
  readonly s3Url: string;
  readonly bucket: string;
  readonly apiKey: string;
  /** Every API key of the configuration, by name (the first is the dev key); the name is its key id. */
  readonly apiKeys: ReadonlyMap<string, string>;
  /** DynamoDB emulator URL (the usage table). */
  readonly dynamoUrl: string;
  /** The usage table's name. */
  readonly usageTable: string;
  /** Resolves once the usage of every request answered so far is written. */
  drainUsage(): Promise<void>;
  /** An S3 client pointed at the local store. */
  readonly s3: S3Client;
  readonly seeded: Manifest[];
  readonly gateway: LocalGateway;
  readonly store: LocalS3;
  /** SageMaker Runtime emulator URL, when language models are served. */
  readonly sagemakerUrl: string | undefined;
  /** Containers behind the emulated endpoints, by endpoint name. */
  readonly containers: ReadonlyMap<string, Container>;
  /** Names of the large models served through the SageMaker emulator. */
  readonly largeModels: readonly string[];
  /** Copies of a model's emulated inference component now (0 when scaled to zero); undefined without one. */
  componentCopies(model: string): number | undefined;
  /** The batch queue fed by s3rver's events under `batch/input/`. */
  readonly batchQueue: LocalQueue;
  close(): Promise<void>;
}

/** Receives before a failing batch message goes to the dead-letter queue (the stack's redrive policy). */
export { type LocalOptions, localOptionsFromEnv };

export const BATCH_MAX_RECEIVES = 3;

/** Name of the demo language model, as OpenAI model and as emulated endpoint. */
export const DEMO_LM = 'demo-lm';

/**
 * Brings up ModelGate on loopback: s3rver as the model bucket, the sample
 * models seeded, the demo language model container behind the SageMaker
 * Runtime emulator, and the API Gateway emulator in front of the very same
 * api and chat handler modules the Lambdas run, configured through the same
 * environment.
 *
 * The handler reads its environment once per process, so one process runs
 * one topology.
 */
export async function startLocal(options: LocalOptions): Promise<LocalTopology> {
  mkdirSync(options.home, { recursive: true });
  const store = await claimPort(PORTS.s3, options.s3Port, () =>
    startLocalS3({ port: options.s3Port, directory: join(options.home, 's3'), bucket: options.bucket }),
  );
  const dynamo = await startUsageTable(options.home, options.dynamoPort ?? 0).catch(async (error) => {
    await store.close();
    throw error;
  });
  const containers = new Map<string, Container>();
  let batchQueue: LocalQueue | undefined;
  let sagemaker: Awaited<ReturnType<typeof startSageMakerEmulator>> | undefined;
  try {
    const s3 = localS3Client(store.url);
    const seeded = options.seed === false ? [] : await seedSampleModels(s3, options.bucket);

    const largeModels: LargeModelBinding[] = [];
    const componentsOf = new Map<string, Pick<EndpointTarget, 'component' | 'capacity'>>();
    if (options.languageModels !== false) {
      const demo = demoLmContainer(DEMO_LM, options.onEvent);
      containers.set(DEMO_LM, demo);
      await demo.start();
      const endpoints = new Map<string, EndpointTarget>([
        [DEMO_LM, { url: demo.url, healthy: demo.healthy }],
      ]);
      largeModels.push({ name: DEMO_LM, endpoint: DEMO_LM, protocol: 'tgi' });
      // Declared large models: forwarded to a server of the user's own (localUrl), else served by a demo container.
      for (const model of options.config.largeModels) {
        const protocol = protocolOf(model);
        const component = componentTarget(model, options.onEvent);
        componentsOf.set(model.name, component);
        if (!model.localUrl && protocol === 'v2') {
          throw new Error(
            `large model '${model.name}' speaks V2 tensors: in local mode it needs a localUrl to forward to`,
          );
        }
        if (model.localUrl) {
          endpoints.set(model.name, { url: model.localUrl, healthy: () => true, ...component });
        } else {
          // The demo model in the mode of the declared container: TGI, LMI or an OpenAI-compatible server.
          const own = demoLmContainer(model.name, options.onEvent, protocol as DemoLmMode, {
            ...model.env,
            ...(model.maxInputTokens && { MAX_INPUT_TOKENS: String(model.maxInputTokens) }),
            ...(model.maxTotalTokens && { MAX_TOTAL_TOKENS: String(model.maxTotalTokens) }),
          });
          containers.set(model.name, own);
          endpoints.set(model.name, { url: '', healthy: own.healthy });
        }
        largeModels.push({ name: model.name, endpoint: model.name, protocol, ...componentBinding(model) });
      }
      await Promise.all(
        [...containers.entries()]
          .filter(([name]) => name !== DEMO_LM)
          .map(async ([name, container]) => {
            await container.start();
            endpoints.set(name, {
              url: container.url,
              healthy: container.healthy,
              ...componentsOf.get(name),
            });
          }),
      );
      const sagemakerPort = options.sagemakerPort ?? 0;
      sagemaker = await claimPort(PORTS.sagemaker, sagemakerPort, () =>
        startSageMakerEmulator({
          port: sagemakerPort,
          endpoints,
          s3,
          asyncOutput: { bucket: options.bucket, prefix: 'sagemaker-async/' },
          ...(options.sagemakerInvocationTimeoutMs !== undefined && {
            invocationTimeoutMs: options.sagemakerInvocationTimeoutMs,
          }),
        }),
      );
    }

    Object.assign(process.env, {
      ...apiFunctionEnvironment(options.config),
      [ENV.MODEL_BUCKET]: options.bucket,
      [ENV.S3_ENDPOINT]: store.url,
      [ENV.CACHE_DIR]: join(options.home, 'cache'),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      [ENV.LARGE_MODELS]: JSON.stringify(largeModels),
      ...(options.usage !== false && { [ENV.USAGE_TABLE]: USAGE_TABLE }),
      // One process answers every request here: a second of additions per key and model is one write.
      [ENV.USAGE_FLUSH_MS]: String(LOCAL_USAGE_FLUSH_MS),
      [ENV.DYNAMODB_ENDPOINT]: dynamo.url,
      [ENV.KEY_LIMITS]: keyLimitsEnv(options.config),
      ...(sagemaker && { [ENV.SAGEMAKER_ENDPOINT]: sagemaker.url }),
      // The console and the reference, built as the deployed function carries them.
      [ENV.ASSETS_DIR]: buildLocalAssets(join(options.home, 'assets')),
    });
    // Without usage the functions have no table, even if this process's environment named one before.
    if (options.usage === false) delete process.env[ENV.USAGE_TABLE];
    // Quiet by default on a laptop; POWERTOOLS_* set by the user win.
    process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
    const { handler, usageRecorder: apiUsage } = (await import('../functions/api/index.ts')) as {
      handler: ProxyHandler;
      usageRecorder?: { drain(): Promise<void> };
    };
    const batch = (
      (await import('../functions/batch/index.ts')) as {
        handler: (e: SQSEvent) => Promise<SQSBatchResponse>;
      }
    ).handler;
    batchQueue = new LocalQueue({
      visibilityTimeoutMs: options.batchVisibilityTimeoutMs ?? 60_000,
      maxReceiveCount: BATCH_MAX_RECEIVES,
      handler: batch,
      onDeadLetter: (m) => options.onEvent?.(`batch message ${m.messageId} moved to the dead-letter queue`),
    });
    const queue = batchQueue;
    // S3 → SQS notification on the batch/input/ prefix, as the stack configures it. s3rver
    // reports every bucket and raw keys: filter, and encode keys the way S3 does.
    (store.server as unknown as NodeJS.EventEmitter).on(
      'event',
      (event: {
        Records?: Array<{ eventName?: string; s3: { bucket: { name: string }; object: { key: string } } }>;
      }) => {
        const records = (event.Records ?? []).filter(
          (r) =>
            r.eventName?.startsWith('ObjectCreated') &&
            r.s3.bucket.name === options.bucket &&
            r.s3.object.key.startsWith(BATCH_INPUT),
        );
        if (records.length === 0) return;
        for (const r of records)
          r.s3.object.key = encodeURIComponent(r.s3.object.key).replace(/%20/g, '+').replace(/%2F/g, '/');
        queue.send(JSON.stringify({ Records: records }));
      },
    );
    installLambdaStreamingRuntime();
    const chatModule = sagemaker
      ? ((await import('../functions/chat/index.ts')) as {
          handler: StreamingHandler;
          usageRecorder?: { drain(): Promise<void> };
        })
      : undefined;
    const chat = chatModule?.handler;

    const keys = gatewayKeys(options.config, options.home, { value: options.apiKey, plan: options.plan });
    const apiKey = keys[0]?.value as string;
    const routes: GatewayRoute[] = [
      ...API_ROUTES.map((route) => ({
        ...route,
        handler,
        ...('bodySchema' in route && { schema: BODY_SCHEMAS[route.bodySchema] }),
      })),
      ...(chat ? CHAT_ROUTES.map((route) => ({ ...route, handler: chat })) : []),
    ];
    const gateway = await claimPort(PORTS.api, options.port, () =>
      startGateway({
        routes,
        apiKeys: keys,
        port: options.port,
        stage: options.config.stage,
        ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
        streamTimeoutMs: options.streamTimeoutMs ?? options.config.chat.timeoutSeconds * 1000,
        ...(options.streamIdleTimeoutMs !== undefined && {
          streamIdleTimeoutMs: options.streamIdleTimeoutMs,
        }),
        metrics: processCounters,
        ...(options.accessLog && { accessLog: options.accessLog }),
      }),
    );
    const drainUsage = async () => {
      await Promise.all([apiUsage?.drain(), chatModule?.usageRecorder?.drain()]);
    };
    return {
      apiUrl: gateway.url,
      s3Url: store.url,
      bucket: options.bucket,
      apiKey,
      apiKeys: new Map(keys.map((k) => [k.id, k.value])),
      dynamoUrl: dynamo.url,
      usageTable: USAGE_TABLE,
      drainUsage,
      s3,
      seeded,
      gateway,
      store,
      sagemakerUrl: sagemaker?.url,
      containers,
      largeModels: largeModels.map((m) => m.name),
      componentCopies: (model) => componentsOf.get(model)?.capacity?.copies,
      batchQueue: queue,
      async close() {
        queue.close();
        for (const { capacity } of componentsOf.values()) capacity?.close();
        await gateway.close();
        await sagemaker?.close();
        await Promise.all([...containers.values()].map((c) => c.stop()));
        s3.destroy();
        await drainUsage();
        await dynamo.close();
        await store.close();
      },
    };
  } catch (error) {
    batchQueue?.close();
    await sagemaker?.close();
    await Promise.all([...containers.values()].map((c) => c.stop()));
    await dynamo.close();
    await store.close();
    throw error;
  }
}

/** Builds the console's assets into `dir` (a few hundred ms) and returns it. */
function buildLocalAssets(dir: string): string {
  buildAssets(dir);
  return dir;
}
