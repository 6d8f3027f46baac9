import { CfnOutput, Duration, RemovalPolicy, Size, Stack, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { API_ROUTES, BODY_SCHEMAS } from '../../functions/api/routes.ts';
import type { ModelGateConfig } from '../config.ts';
import { InferenceApi } from '../constructs/inference-api.ts';
import { InferenceFunction } from '../constructs/inference-function.ts';
import { ModelStore } from '../constructs/model-store.ts';
import { apiFunctionEnvironment } from '../function-env.ts';

export interface ModelGateStackProps extends StackProps {
  readonly config: ModelGateConfig;
}

/** ModelGate's serving stack: model store, inference function, REST API. Wiring only. */
export class ModelGateStack extends Stack {
  public readonly store: ModelStore;
  public readonly inference: InferenceFunction;
  public readonly api: InferenceApi;

  constructor(scope: Construct, id: string, props: ModelGateStackProps) {
    super(scope, id, props);
    const { config } = props;
    const logRetention = config.logRetentionDays as logs.RetentionDays;

    this.store = new ModelStore(this, 'ModelStore', {
      noncurrentVersionExpiration: Duration.days(config.modelStore.noncurrentVersionExpirationDays),
      accessLogExpiration: Duration.days(config.modelStore.accessLogExpirationDays),
      removalPolicy:
        config.modelStore.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });

    this.inference = new InferenceFunction(this, 'Inference', {
      entry: new URL('../../functions/api/index.ts', import.meta.url).pathname,
      memorySize: config.api.memoryMiB,
      timeout: Duration.seconds(config.api.timeoutSeconds),
      ephemeralStorageSize: Size.mebibytes(config.api.ephemeralStorageMiB),
      reservedConcurrentExecutions: config.api.reservedConcurrency,
      logRetention,
      environment: apiFunctionEnvironment(config),
    });
    this.store.bindModels(this.inference.function);

    this.api = new InferenceApi(this, 'Api', {
      handler: this.inference.function,
      routes: API_ROUTES,
      bodySchemas: BODY_SCHEMAS,
      usagePlans: config.usagePlans,
      apiKeys: config.apiKeys,
      stageName: config.stage,
      logRetention,
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the ModelGate API' });
    new CfnOutput(this, 'ModelBucketName', {
      value: this.store.bucket.bucketName,
      description: 'S3 bucket of the model registry (models/<name>/<version>/)',
    });
    new CfnOutput(this, 'ApiKeyId', {
      value: this.api.apiKeys[0]?.keyId ?? '',
      description: `Id of API key '${config.apiKeys[0]?.name}': aws apigateway get-api-key --include-value --api-key <id>`,
    });
  }
}
