/** A large model on a SageMaker real-time GPU endpoint, with scaling, alarms and deployment guardrails. */
import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import {
  type ContainerPreset,
  type ContainerProtocol,
  type ModelSource,
  PRODUCTION_VARIANT,
} from '../gpu-containers.ts';
import { GpuInstanceType } from '../gpu-instances.ts';
import { componentName, componentVariant, ScaleToZeroComponent } from './gpu-component.ts';
import { containerImage, grantContainerBasics, presetEnvironment } from './gpu-container.ts';
import { grantBucketKey } from './model-store.ts';

export { ContainerPreset, type ContainerProtocol, ModelSource } from '../gpu-containers.ts';
export { GpuInstanceType };

export interface GpuEndpointProps {
  readonly instanceType: GpuInstanceType;
  readonly container: ContainerPreset;
  /** The model: `ModelSource.huggingFace(id)` (downloaded by the container at start) or `ModelSource.s3(url)`. */
  readonly model: ModelSource;
  /** Container environment, over the preset's. */
  readonly environment?: Record<string, string>;
  /** @default - 1 */
  readonly initialInstanceCount?: number;
  /** 0 deploys the model as an inference component that scales to zero when idle. @default - initialInstanceCount */
  readonly minInstances?: number;
  /** With minInstances 0: idle minutes before copies and instances go to zero. @default 15 minutes */
  readonly scaleToZeroAfter?: Duration;
  /** @default - initialInstanceCount */
  readonly maxInstances?: number;
  /**
   * Scale out above this many invocations per instance per minute.
   * @default - 60
   */
  readonly targetInvocationsPerInstance?: number;
  /** @default - 900 seconds */
  readonly startupHealthCheckTimeout?: Duration;
  /** @default - 900 seconds */
  readonly modelDataDownloadTimeout?: Duration;
  /** Data capture of requests and answers into this bucket, under `data-capture/<endpoint>/`. */
  readonly dataCapture?: { readonly bucket: s3.IBucket; readonly samplingPercentage?: number };
  /** TGI's MAX_INPUT_TOKENS / MAX_TOTAL_TOKENS, LMI's OPTION_MAX_MODEL_LEN. */
  readonly maxInputTokens?: number;
  readonly maxTotalTokens?: number;
  /** Invocation5XXErrors per minute, in 2 of 3 minutes, that raise the errors alarm. @default 5 */
  readonly errorsThreshold?: number;
  /** p99 ModelLatency, in 3 of 5 minutes, that raises the latency alarm. @default 60 seconds */
  readonly p99LatencyThreshold?: Duration;
  /** Share of capacity a changed endpoint config gets first (deployment guardrails). @default 10 */
  readonly canaryPercent?: number;
  /** How long the canary share runs before the rest shifts, watched by the alarms. @default 10 minutes */
  readonly canaryBakeTime?: Duration;
}

/**
 * A SageMaker real-time endpoint on GPU instances: model, endpoint config
 * (optional data capture), endpoint, target-tracking autoscaling between min
 * and max, and an execution role with only what the container needs.
 */
export class GpuEndpoint extends Construct {
  public readonly role: iam.Role;
  public readonly endpoint: sagemaker.CfnEndpoint;
  public readonly endpointName: string;
  public readonly endpointArn: string;
  public readonly scalableTarget: autoscaling.ScalableTarget;
  /** With minInstances 0: the inference component invocations must name. */
  public readonly scaleToZero: ScaleToZeroComponent | undefined;
  public readonly protocol: ContainerProtocol;
  /** The endpoint's one production variant, as CloudWatch dimensions and scaling name it. */
  public readonly variantName = PRODUCTION_VARIANT;
  /** Invocation5XXErrors on the endpoint; also rolls back a deployment. */
  public readonly errorsAlarm: cloudwatch.Alarm;
  /** p99 ModelLatency on the endpoint; also rolls back a deployment. */
  public readonly latencyAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: GpuEndpointProps) {
    super(scope, id);
    const initial = props.initialInstanceCount ?? 1;
    const min = props.minInstances ?? initial;
    const max = props.maxInstances ?? initial;
    if (!(min >= 0 && min <= initial && initial <= max)) {
      throw new Error(
        `instance counts must satisfy 0 <= min (${min}) <= initial (${initial}) <= max (${max})`,
      );
    }
    const modelData = props.model.modelData;
    const sampling = props.dataCapture?.samplingPercentage ?? 10;
    if (sampling < 0 || sampling > 100) throw new Error(`samplingPercentage must be 0-100, got ${sampling}`);
    const startup = props.startupHealthCheckTimeout ?? Duration.seconds(900);
    const download = props.modelDataDownloadTimeout ?? Duration.seconds(900);
    for (const [name, d] of [
      ['startupHealthCheckTimeout', startup],
      ['modelDataDownloadTimeout', download],
    ] as const) {
      if (d.toSeconds() < 60 || d.toSeconds() > 3600)
        throw new Error(`${name} must be 60-3600 seconds, got ${d.toSeconds()}`);
    }

    const stack = Stack.of(this);
    this.protocol = props.container.protocol;
    this.endpointName = `${stack.stackName}-${id}`
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '-')
      .slice(0, 63);
    const image = containerImage(this, props.container);

    this.role = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `SageMaker execution role of endpoint ${this.endpointName}`,
    });
    grantContainerBasics(this.role, this.endpointName, props.container, image.account);
    if (modelData) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [`arn:${stack.partition}:s3:::${modelData.bucket}/${modelData.key}`],
        }),
      );
    }

    const model = new sagemaker.CfnModel(this, 'Model', {
      executionRoleArn: this.role.roleArn,
      primaryContainer: {
        image: image.uri,
        environment: { ...presetEnvironment(props), ...props.environment },
        ...(modelData && { modelDataUrl: modelData.url }),
      },
    });
    model.node.addDependency(this.role);

    const zero = min === 0;
    const captureDestination =
      props.dataCapture && !zero
        ? `s3://${props.dataCapture.bucket.bucketName}/data-capture/${this.endpointName}`
        : undefined;
    if (props.dataCapture && captureDestination) {
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['s3:PutObject'],
          resources: [props.dataCapture.bucket.arnForObjects(`data-capture/${this.endpointName}/*`)],
        }),
      );
      grantBucketKey(props.dataCapture.bucket, this.role, 'write');
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(props.dataCapture.bucket.node.defaultChild as CfnElement)}.Arn>/data-capture/${this.endpointName}/*]`,
        reason:
          'SageMaker writes captured requests under this endpoint’s own prefix with generated object names.',
      });
    }

    const config = new sagemaker.CfnEndpointConfig(this, 'Config', {
      // Inference components need the role on the config; their variant names no model.
      ...(zero && { executionRoleArn: this.role.roleArn }),
      productionVariants: [
        zero
          ? componentVariant(PRODUCTION_VARIANT, props.instanceType, max)
          : {
              variantName: PRODUCTION_VARIANT,
              modelName: model.attrModelName,
              instanceType: props.instanceType.name,
              initialInstanceCount: initial,
              initialVariantWeight: 1,
              containerStartupHealthCheckTimeoutInSeconds: startup.toSeconds(),
              modelDataDownloadTimeoutInSeconds: download.toSeconds(),
            },
      ],
      ...(captureDestination && {
        dataCaptureConfig: {
          enableCapture: true,
          initialSamplingPercentage: sampling,
          destinationS3Uri: captureDestination,
          captureOptions: [{ captureMode: 'Input' }, { captureMode: 'Output' }],
          captureContentTypeHeader: { jsonContentTypes: ['application/json'] },
        },
      }),
    });
    Validations.of(config).acknowledge(
      {
        id: 'HIPAA.Security-SageMakerEndpointConfigurationKMSKeyConfigured',
        reason:
          'GPU instances with local NVMe storage (g5, g6, p4d, p5) encrypt it in hardware and reject a KmsKeyId; the ML storage volumes of the others use the AWS-managed key.',
      },
      {
        id: 'AwsSolutions-SM2',
        reason:
          'The endpoint config uses the AWS-managed key SageMaker applies to ML storage volumes; a customer KMS key is an operator choice.',
      },
    );

    // Alarms on the endpoint's own metrics. They are named, so the endpoint's
    // deployment guardrails can name them before the endpoint exists.
    const dimensionsMap: Record<string, string> = zero
      ? { InferenceComponentName: componentName(this.endpointName) }
      : { EndpointName: this.endpointName, VariantName: PRODUCTION_VARIANT };
    const metric = (namespace: string, metricName: string, statistic: string) =>
      new cloudwatch.Metric({ namespace, metricName, dimensionsMap, statistic, period: Duration.minutes(1) });
    this.errorsAlarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmName: `${this.endpointName}-5xx`,
      alarmDescription: `Endpoint ${this.endpointName} answers 5xx (model container errors).`,
      metric: metric('AWS/SageMaker', 'Invocation5XXErrors', 'Sum'),
      threshold: props.errorsThreshold ?? 5,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.latencyAlarm = new cloudwatch.Alarm(this, 'LatencyAlarm', {
      alarmName: `${this.endpointName}-p99-latency`,
      alarmDescription: `Endpoint ${this.endpointName}: p99 model latency over ${props.p99LatencyThreshold?.toSeconds() ?? 60} s.`,
      // ModelLatency is in microseconds.
      metric: metric('AWS/SageMaker', 'ModelLatency', 'p99'),
      threshold: (props.p99LatencyThreshold ?? Duration.seconds(60)).toMilliseconds() * 1000,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.endpoint = new sagemaker.CfnEndpoint(this, 'Endpoint', {
      endpointName: this.endpointName,
      endpointConfigName: config.attrEndpointConfigName,
      // Deployment guardrails: a new endpoint config (new image, model, instance type)
      // takes a canary share of capacity first; either alarm rolls the update back.
      // With an inference component, the component's rolling update is the guardrail.
      deploymentConfig: zero
        ? undefined
        : {
            blueGreenUpdatePolicy: {
              trafficRoutingConfiguration: {
                type: 'CANARY',
                canarySize: { type: 'CAPACITY_PERCENT', value: props.canaryPercent ?? 10 },
                waitIntervalInSeconds: (props.canaryBakeTime ?? Duration.minutes(10)).toSeconds(),
              },
              terminationWaitInSeconds: 300,
              maximumExecutionTimeoutInSeconds: 3600 * 2,
            },
            autoRollbackConfiguration: {
              alarms: [{ alarmName: this.errorsAlarm.alarmName }, { alarmName: this.latencyAlarm.alarmName }],
            },
          },
    });
    this.endpoint.node.addDependency(this.errorsAlarm, this.latencyAlarm);
    this.endpointArn = stack.formatArn({
      service: 'sagemaker',
      resource: 'endpoint',
      resourceName: this.endpointName,
    });

    if (zero) {
      this.scaleToZero = new ScaleToZeroComponent(this, 'Component', {
        endpoint: this.endpoint,
        endpointName: this.endpointName,
        variantName: PRODUCTION_VARIANT,
        modelName: model.attrModelName,
        instanceType: props.instanceType,
        maxCopies: max,
        targetInvocationsPerCopy: props.targetInvocationsPerInstance ?? 60,
        scaleToZeroAfter: props.scaleToZeroAfter ?? Duration.minutes(15),
        startupHealthCheckTimeout: startup,
        modelDataDownloadTimeout: download,
        rollbackAlarms: [this.errorsAlarm, this.latencyAlarm],
      });
      this.scalableTarget = this.scaleToZero.scalableTarget;
      return;
    }
    this.scalableTarget = new autoscaling.ScalableTarget(this, 'Scaling', {
      serviceNamespace: autoscaling.ServiceNamespace.SAGEMAKER,
      resourceId: `endpoint/${this.endpointName}/variant/${PRODUCTION_VARIANT}`,
      scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      minCapacity: min,
      maxCapacity: max,
    });
    this.scalableTarget.node.addDependency(this.endpoint);
    this.scalableTarget.scaleToTrackMetric('InvocationsPerInstance', {
      predefinedMetric: autoscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
      targetValue: props.targetInvocationsPerInstance ?? 60,
      scaleInCooldown: Duration.minutes(5),
      scaleOutCooldown: Duration.minutes(1),
    });
  }

  /** Lets `grantee` invoke this endpoint (whole answers and streams), and nothing else. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointWithResponseStream'],
      resourceArns: [this.endpointArn, ...(this.scaleToZero ? [this.scaleToZero.componentArn] : [])],
    });
  }
}
