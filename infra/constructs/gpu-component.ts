/**
 * Scale to zero for a GPU endpoint: the model as a SageMaker inference component on an endpoint with
 * managed instance scaling, copies scaled out from zero on NoCapacityInvocationFailures and in after idle minutes.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import type { GpuInstanceType } from '../gpu-instances.ts';

/** The production variant of an endpoint that hosts inference components and may have no instance. */
export function componentVariant(
  variantName: string,
  instanceType: GpuInstanceType,
  maxInstances: number,
): sagemaker.CfnEndpointConfig.ProductionVariantProperty {
  return {
    variantName,
    instanceType: instanceType.name,
    initialInstanceCount: 1,
    managedInstanceScaling: { status: 'ENABLED', minInstanceCount: 0, maxInstanceCount: maxInstances },
    routingConfig: { routingStrategy: 'LEAST_OUTSTANDING_REQUESTS' },
  };
}

/** The inference component's name for an endpoint (at most 63 characters). */
export function componentName(endpointName: string): string {
  return `${endpointName.slice(0, 60).replace(/-+$/, '')}-ic`;
}

export interface ScaleToZeroComponentProps {
  readonly endpoint: sagemaker.CfnEndpoint;
  readonly endpointName: string;
  readonly variantName: string;
  readonly modelName: string;
  readonly instanceType: GpuInstanceType;
  /** Most copies (one copy takes all of an instance's GPUs, so also most instances). */
  readonly maxCopies: number;
  /** Scale out above this many invocations per copy per minute. */
  readonly targetInvocationsPerCopy: number;
  /** Copies go to zero after this long without an invocation. */
  readonly scaleToZeroAfter: Duration;
  readonly startupHealthCheckTimeout: Duration;
  readonly modelDataDownloadTimeout: Duration;
  /** Host memory a copy reserves. @default 4096 MiB */
  readonly memoryMiB?: number;
  /** Alarms that roll back a component update. */
  readonly rollbackAlarms: readonly cloudwatch.IAlarm[];
}

/**
 * One inference component with copy-count scaling between 0 and max: target tracking on
 * invocations per copy scales out under load; a step policy on NoCapacityInvocationFailures
 * brings the first copy back (managed instance scaling then provisions an instance); a step
 * policy on an idle alarm (no invocations for `scaleToZeroAfter`) sets the copies to zero.
 */
export class ScaleToZeroComponent extends Construct {
  public readonly component: sagemaker.CfnInferenceComponent;
  public readonly componentName: string;
  /** What an invoker is granted, with the endpoint. */
  public readonly componentArn: string;
  public readonly scalableTarget: autoscaling.ScalableTarget;
  /** NoCapacityInvocationFailures: a request found no copy; scales out from zero. */
  public readonly noCapacityAlarm: cloudwatch.Alarm;
  /** No invocations for `scaleToZeroAfter`: scales in to zero. */
  public readonly idleAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ScaleToZeroComponentProps) {
    super(scope, id);
    const idleMinutes = props.scaleToZeroAfter.toMinutes();
    if (!Number.isInteger(idleMinutes) || idleMinutes < 1 || idleMinutes > 1440) {
      throw new Error(
        `scaleToZeroAfter must be 1-1440 whole minutes, got ${props.scaleToZeroAfter.toHumanString()}`,
      );
    }
    this.componentName = componentName(props.endpointName);
    this.componentArn = Stack.of(this).formatArn({
      service: 'sagemaker',
      resource: 'inference-component',
      resourceName: this.componentName,
    });
    this.component = new sagemaker.CfnInferenceComponent(this, 'Component', {
      inferenceComponentName: this.componentName,
      endpointName: props.endpointName,
      variantName: props.variantName,
      specification: {
        modelName: props.modelName,
        computeResourceRequirements: {
          numberOfAcceleratorDevicesRequired: props.instanceType.gpus,
          minMemoryRequiredInMb: props.memoryMiB ?? 4096,
        },
        startupParameters: {
          containerStartupHealthCheckTimeoutInSeconds: props.startupHealthCheckTimeout.toSeconds(),
          modelDataDownloadTimeoutInSeconds: props.modelDataDownloadTimeout.toSeconds(),
        },
      },
      runtimeConfig: { copyCount: 1 },
      deploymentConfig: {
        rollingUpdatePolicy: {
          maximumBatchSize: { type: 'COPY_COUNT', value: 1 },
          waitIntervalInSeconds: 300,
          maximumExecutionTimeoutInSeconds: 3600,
        },
        autoRollbackConfiguration: {
          alarms: props.rollbackAlarms.map((a) => ({ alarmName: a.alarmName })),
        },
      },
    });
    this.component.node.addDependency(props.endpoint);

    this.scalableTarget = new autoscaling.ScalableTarget(this, 'Scaling', {
      serviceNamespace: autoscaling.ServiceNamespace.SAGEMAKER,
      resourceId: `inference-component/${this.componentName}`,
      scalableDimension: 'sagemaker:inference-component:DesiredCopyCount',
      minCapacity: 0,
      maxCapacity: props.maxCopies,
    });
    this.scalableTarget.node.addDependency(this.component);
    // Out under load only: going to zero is the idle policy's, on the configured idle time.
    this.scalableTarget.scaleToTrackMetric('InvocationsPerCopy', {
      predefinedMetric: autoscaling.PredefinedMetric.SAGEMAKER_INFERENCE_COMPONENT_INVOCATIONS_PER_COPY,
      targetValue: props.targetInvocationsPerCopy,
      disableScaleIn: true,
      scaleOutCooldown: Duration.minutes(1),
    });

    const dimensionsMap = { InferenceComponentName: this.componentName };
    const metric = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/SageMaker',
        metricName,
        dimensionsMap,
        statistic: 'Sum',
        period: Duration.minutes(1),
      });

    const fromZero = new autoscaling.StepScalingAction(this, 'FromZero', {
      scalingTarget: this.scalableTarget,
      adjustmentType: autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      cooldown: Duration.minutes(1),
    });
    fromZero.addAdjustment({ lowerBound: 0, adjustment: 1 });
    this.noCapacityAlarm = new cloudwatch.Alarm(this, 'NoCapacityAlarm', {
      alarmName: `${this.componentName}-no-capacity`,
      alarmDescription: `Requests to ${this.componentName} found no copy: bring one back.`,
      metric: metric('NoCapacityInvocationFailures'),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.noCapacityAlarm.addAlarmAction({ bind: () => ({ alarmActionArn: fromZero.scalingPolicyArn }) });

    const toZero = new autoscaling.StepScalingAction(this, 'ToZero', {
      scalingTarget: this.scalableTarget,
      adjustmentType: autoscaling.AdjustmentType.EXACT_CAPACITY,
    });
    toZero.addAdjustment({ upperBound: 0, adjustment: 0 });
    this.idleAlarm = new cloudwatch.Alarm(this, 'IdleAlarm', {
      alarmName: `${this.componentName}-idle`,
      alarmDescription: `${this.componentName} had no request for ${idleMinutes} minutes: scale to zero.`,
      // Requests turned away at zero count as activity, or this would undo the scale-out from zero.
      // FILL: a minute without a datapoint is a minute without a request.
      metric: new cloudwatch.MathExpression({
        expression: 'FILL(invocations, 0) + FILL(noCapacity, 0)',
        usingMetrics: {
          invocations: metric('Invocations'),
          noCapacity: metric('NoCapacityInvocationFailures'),
        },
        period: Duration.minutes(1),
        label: 'Requests',
      }),
      threshold: 0,
      evaluationPeriods: idleMinutes,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.idleAlarm.addAlarmAction({ bind: () => ({ alarmActionArn: toZero.scalingPolicyArn }) });
  }
}
