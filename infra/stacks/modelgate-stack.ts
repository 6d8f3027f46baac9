/**
 * The ModelGate stack: the model store, the api, chat, authorizer and batch functions, GPU endpoints, the
 * REST API, monitoring and the stack's outputs, wired from the configuration.
 */
import { CfnOutput, Duration, RemovalPolicy, Size, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { API_ROUTES, BODY_SCHEMAS } from '../../functions/api/routes.ts';
import { CHAT_ROUTES } from '../../functions/chat/routes.ts';
import { ENV } from '../../functions/core/env.ts';
import { GUARD_RULES, guardRule } from '../checks/guard.ts';
import { limitsOf, type ModelGateConfig } from '../config.ts';
import { BatchPredictions } from '../constructs/batch-predictions.ts';
import { ContainerPreset, GpuEndpoint, GpuInstanceType, ModelSource } from '../constructs/gpu-endpoint.ts';
import { InferenceApi } from '../constructs/inference-api.ts';
import { LargeFileBatches } from '../constructs/large-file-batches.ts';
import { LogEncryption } from '../constructs/log-encryption.ts';
import { MetricsRead } from '../constructs/metrics-read.ts';
import { ModelStore } from '../constructs/model-store.ts';
import { Monitoring } from '../constructs/monitoring.ts';
import { NodeFunction } from '../constructs/node-function.ts';
import { UsageTable } from '../constructs/usage-table.ts';
import { API_NODE_OPTIONS, apiFunctionEnvironment } from '../function-env.ts';

export interface ModelGateStackProps extends StackProps {
  readonly config: ModelGateConfig;
}

/**
 * ModelGate's serving stack: model store, inference (ONNX) and chat (large
 * models, streaming) functions, key authorizer, GPU endpoints, REST API.
 * Wiring only.
 */
/** Builds the console and the API reference, content-hashed, into assets/ beside the bundle (the default ASSETS_DIR). */
export function consoleAssets(inputDir: string, outputDir: string): string[] {
  return [`"${inputDir}/node_modules/.bin/tsx" "${inputDir}/console/build.ts" "${outputDir}/assets"`];
}

export class ModelGateStack extends Stack {
  public readonly store: ModelStore;
  public readonly inference: NodeFunction;
  public readonly chat: NodeFunction;
  public readonly authorizer: NodeFunction;
  public readonly endpoints: Record<string, GpuEndpoint> = {};
  public readonly api: InferenceApi;
  public readonly batch: BatchPredictions;
  public readonly largeFiles: LargeFileBatches;
  public readonly monitoring: Monitoring;
  public readonly usage: UsageTable;

  constructor(scope: Construct, id: string, props: ModelGateStackProps) {
    super(scope, id, props);
    const { config } = props;
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    new LogEncryption(this, 'LogEncryption');
    Validations.of(this).acknowledge({
      id: 'HIPAA.Security-IAMNoInlinePolicy',
      reason:
        'Each inline policy belongs to exactly one role of this stack and is created, reviewed and deleted with it; the infra tests walk every statement for wildcards and prefixes.',
    });
    if (config.logRetentionDays < 365) {
      Validations.of(this).acknowledge({
        id: guardRule(GUARD_RULES.logRetention),
        reason: `The configuration sets logRetentionDays to ${config.logRetentionDays}: the operator keeps function and API logs shorter than the one year of the default.`,
      });
    }
    this.store = new ModelStore(this, 'ModelStore', {
      noncurrentVersionExpiration: Duration.days(config.modelStore.noncurrentVersionExpirationDays),
      accessLogExpiration: Duration.days(config.modelStore.accessLogExpirationDays),
      removalPolicy:
        config.modelStore.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });

    for (const model of config.largeModels) {
      this.endpoints[model.name] = new GpuEndpoint(this, `Llm${pascal(model.name)}`, {
        instanceType: GpuInstanceType.of(model.instanceType),
        container: ContainerPreset.of(model.container, model.protocol),
        model: model.hfModelId
          ? ModelSource.huggingFace(model.hfModelId)
          : ModelSource.s3(model.modelDataUrl as string),
        environment: model.env,
        initialInstanceCount: model.initialInstanceCount,
        ...(model.minInstances !== undefined && { minInstances: model.minInstances }),
        scaleToZeroAfter: Duration.minutes(model.scaleToZeroAfterMinutes),
        ...(model.maxInstances && { maxInstances: model.maxInstances }),
        targetInvocationsPerInstance: model.targetInvocationsPerInstance,
        startupHealthCheckTimeout: Duration.seconds(model.startupTimeoutSeconds),
        modelDataDownloadTimeout: Duration.seconds(model.downloadTimeoutSeconds),
        ...(model.maxInputTokens && { maxInputTokens: model.maxInputTokens }),
        ...(model.maxTotalTokens && { maxTotalTokens: model.maxTotalTokens }),
        dataCapture: { bucket: this.store.bucket, samplingPercentage: model.dataCaptureSamplingPercentage },
      });
    }
    const largeModels = JSON.stringify(
      config.largeModels.map((m) => ({
        name: m.name,
        endpoint: this.endpoints[m.name]?.endpointName,
        protocol: this.endpoints[m.name]?.protocol,
        ...(this.endpoints[m.name]?.scaleToZero && {
          component: this.endpoints[m.name]?.scaleToZero?.componentName,
          coldStartWaitSeconds: m.coldStartWaitSeconds,
        }),
      })),
    );

    this.inference = new NodeFunction(this, 'Inference', {
      entry: new URL('../../functions/api/index.ts', import.meta.url).pathname,
      memorySize: config.api.memoryMiB,
      timeout: Duration.seconds(config.api.timeoutSeconds),
      ephemeralStorageSize: Size.mebibytes(config.api.ephemeralStorageMiB),
      reservedConcurrentExecutions: config.api.reservedConcurrency,
      logRetention,
      nodeOptions: API_NODE_OPTIONS,
      environment: { ...apiFunctionEnvironment(config), [ENV.LARGE_MODELS]: largeModels },
      afterBundling: consoleAssets,
    });
    this.store.bindModels(this.inference.function);
    new MetricsRead(this, 'MetricsRead', { fn: this.inference.function });

    this.chat = new NodeFunction(this, 'Chat', {
      entry: new URL('../../functions/chat/index.ts', import.meta.url).pathname,
      description: 'ModelGate chat function (OpenAI-compatible, response streaming)',
      onnxRuntime: false,
      memorySize: 1024,
      // As long as API Gateway waits on the answer (chat.timeoutSeconds): nobody listens after that.
      timeout: Duration.seconds(config.chat.timeoutSeconds),
      logRetention,
      environment: { POWERTOOLS_SERVICE_NAME: 'modelgate-chat', [ENV.LARGE_MODELS]: largeModels },
    });
    for (const model of config.largeModels) {
      const endpoint = this.endpoints[model.name] as GpuEndpoint;
      // Tensor (V2) models are served by the api function, language models by the chat function.
      endpoint.grantInvoke(endpoint.protocol === 'v2' ? this.inference.function : this.chat.function);
    }

    this.usage = new UsageTable(this, 'Usage', { retention: Duration.days(config.usage.retentionDays) });
    this.usage.bindRecorder(this.inference.function);
    this.usage.bindRecorder(this.chat.function);

    this.authorizer = new NodeFunction(this, 'KeyAuthorizer', {
      entry: new URL('../../functions/authorizer/index.ts', import.meta.url).pathname,
      description: 'ModelGate API key authorizer (x-api-key or bearer token)',
      onnxRuntime: false,
      memorySize: 256,
      timeout: Duration.seconds(5),
      logRetention,
    });

    this.api = new InferenceApi(this, 'Api', {
      handler: this.inference.function,
      routes: API_ROUTES,
      bodySchemas: BODY_SCHEMAS,
      usagePlans: config.usagePlans,
      apiKeys: config.apiKeys,
      stageName: config.stage,
      logRetention,
      streaming: {
        handler: this.chat.function,
        routes: CHAT_ROUTES,
        timeout: Duration.seconds(config.chat.timeoutSeconds),
      },
      authorizer: this.authorizer.function,
    });

    // Budgets and limits by API key id, for the functions that enforce them.
    const keyLimits = config.apiKeys.flatMap((key, i) => {
      const limits = limitsOf(config, key.name);
      const keyId = this.api.apiKeys[i]?.keyId;
      return keyId && Object.keys(limits).length > 0 ? [{ keyId, ...limits }] : [];
    });
    if (keyLimits.length > 0) {
      for (const fn of [this.inference, this.chat])
        fn.function.addEnvironment(ENV.KEY_LIMITS, this.toJsonString(keyLimits));
    }

    const batchEnvironment = { ...apiFunctionEnvironment(config), [ENV.LARGE_MODELS]: largeModels };
    this.batch = new BatchPredictions(this, 'Batch', {
      store: this.store,
      entry: new URL('../../functions/batch/index.ts', import.meta.url).pathname,
      environment: batchEnvironment,
      logRetention,
    });
    this.largeFiles = new LargeFileBatches(this, 'LargeFileBatches', {
      store: this.store,
      chunkEntry: new URL('../../functions/batch/chunk.ts', import.meta.url).pathname,
      mergeEntry: new URL('../../functions/batch/merge.ts', import.meta.url).pathname,
      environment: batchEnvironment,
      logRetention,
    });
    this.largeFiles.bind(this.batch.function);
    this.batch.grantSubmit(this.inference.function);
    for (const endpoint of Object.values(this.endpoints)) {
      // Batches of OpenAI requests for a language model run on its endpoint too.
      if (endpoint.protocol !== 'v2') endpoint.grantInvoke(this.batch.function);
    }

    this.monitoring = new Monitoring(this, 'Monitoring', {
      api: this.api.api,
      functions: {
        api: this.inference.function,
        chat: this.chat.function,
        authorizer: this.authorizer.function,
        batch: this.batch.function,
      },
      throttleAlarmFunctions: ['api', 'chat', 'authorizer'],
      endpoints: Object.values(this.endpoints),
      batch: {
        queue: this.batch.queue,
        deadLetterQueue: this.batch.deadLetterQueue,
        function: this.batch.function,
      },
      alarmEmail: config.monitoring.alarmEmail,
      api5xxRatePercent: config.monitoring.api5xxRatePercent,
      apiP99Latency: Duration.millis(config.monitoring.apiP99LatencyMs),
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the ModelGate API' });
    new CfnOutput(this, 'ModelBucketName', {
      value: this.store.bucket.bucketName,
      description: 'S3 bucket of the model registry (models/<name>/<version>/)',
    });
    new CfnOutput(this, 'ModelBucketKeyArn', {
      value: this.store.key.keyArn,
      description: 'KMS key of the model bucket: uploaders need kms:GenerateDataKey, readers kms:Decrypt',
    });
    new CfnOutput(this, 'DashboardName', {
      value: this.monitoring.dashboard.dashboardName,
      description: 'CloudWatch dashboard of the API, functions, models, endpoints and batch',
    });
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.monitoring.topic.topicArn,
      description: 'SNS topic every ModelGate alarm notifies',
    });
    new CfnOutput(this, 'UsageTableName', {
      value: this.usage.table.tableName,
      description: 'DynamoDB table of usage per API key, model and day (modelgate usage reads it)',
    });
    new CfnOutput(this, 'ApiKeyIds', {
      value: this.toJsonString(
        Object.fromEntries(config.apiKeys.map((k, i) => [k.name, this.api.apiKeys[i]?.keyId ?? ''])),
      ),
      description: 'Id of each API key by name: usage is recorded under the id',
    });
    new CfnOutput(this, 'ApiKeyId', {
      value: this.api.apiKeys[0]?.keyId ?? '',
      description: `Id of API key '${config.apiKeys[0]?.name}': aws apigateway get-api-key --include-value --api-key <id>`,
    });
  }
}

function pascal(name: string): string {
  return name.replace(/(^|[-_.])(\w)/g, (_, __, c: string) => c.toUpperCase());
}
