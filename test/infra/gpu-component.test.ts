/** Template tests of scale to zero: the inference component, managed instance scaling, copy scaling and its alarms. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../infra/config.ts';
import { ModelGateStack } from '../../infra/stacks/modelgate-stack.ts';
import { nagPacks, testApp, Validations } from './helpers.ts';

const ZERO = {
  name: 'nightly',
  container: 'tgi',
  hfModelId: 'org/model',
  instanceType: 'ml.g6e.12xlarge',
  minInstances: 0,
  maxInstances: 3,
  scaleToZeroAfterMinutes: 20,
  coldStartWaitSeconds: 120,
};

function zeroStack(model: Record<string, unknown> = ZERO) {
  const app = testApp();
  const stack = new ModelGateStack(app, 'Zero', { config: parseConfig({ largeModels: [model] }) });
  Validations.of(app).addPlugins(...nagPacks(app));
  return { app, stack, template: Template.fromStack(stack) };
}

describe('a large model with minInstances 0', () => {
  const { app, template } = zeroStack();
  const component = 'zero-llmnightly-ic';

  it('is an inference component on an endpoint with managed instance scaling down to zero', () => {
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ExecutionRoleArn: Match.anyValue(),
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          InstanceType: 'ml.g6e.12xlarge',
          InitialInstanceCount: 1,
          ManagedInstanceScaling: { Status: 'ENABLED', MinInstanceCount: 0, MaxInstanceCount: 3 },
          RoutingConfig: { RoutingStrategy: 'LEAST_OUTSTANDING_REQUESTS' },
        },
      ],
    });
    const config = Object.values(template.findResources('AWS::SageMaker::EndpointConfig'))[0];
    expect(config?.Properties.ProductionVariants[0].ModelName).toBeUndefined();
    expect(config?.Properties.DataCaptureConfig).toBeUndefined();
    template.hasResourceProperties('AWS::SageMaker::InferenceComponent', {
      InferenceComponentName: component,
      EndpointName: 'zero-llmnightly',
      VariantName: 'AllTraffic',
      Specification: {
        ModelName: Match.anyValue(),
        ComputeResourceRequirements: { NumberOfAcceleratorDevicesRequired: 4, MinMemoryRequiredInMb: 4096 },
        StartupParameters: {
          ContainerStartupHealthCheckTimeoutInSeconds: 900,
          ModelDataDownloadTimeoutInSeconds: 900,
        },
      },
      RuntimeConfig: { CopyCount: 1 },
      DeploymentConfig: {
        AutoRollbackConfiguration: {
          Alarms: [
            { AlarmName: { Ref: Match.stringLikeRegexp('ErrorsAlarm') } },
            { AlarmName: { Ref: Match.stringLikeRegexp('LatencyAlarm') } },
          ],
        },
      },
    });
    const endpoint = Object.values(template.findResources('AWS::SageMaker::Endpoint'))[0];
    expect(endpoint?.Properties.DeploymentConfig).toBeUndefined();
  });

  it('scales copies between 0 and max: out on load and from zero, in to zero after the idle minutes', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ResourceId: `inference-component/${component}`,
      ScalableDimension: 'sagemaker:inference-component:DesiredCopyCount',
      MinCapacity: 0,
      MaxCapacity: 3,
    });
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 1);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        PredefinedMetricSpecification: {
          PredefinedMetricType: 'SageMakerInferenceComponentInvocationsPerCopy',
        },
        DisableScaleIn: true,
      }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: Match.objectLike({
        AdjustmentType: 'ChangeInCapacity',
        StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
      }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: Match.objectLike({
        AdjustmentType: 'ExactCapacity',
        StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: 0 }],
      }),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `${component}-no-capacity`,
      Namespace: 'AWS/SageMaker',
      MetricName: 'NoCapacityInvocationFailures',
      Dimensions: [{ Name: 'InferenceComponentName', Value: component }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: Match.stringLikeRegexp('FromZero') }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `${component}-idle`,
      EvaluationPeriods: 20,
      Threshold: 0,
      ComparisonOperator: 'LessThanOrEqualToThreshold',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(invocations, 0) + FILL(noCapacity, 0)' }),
        Match.objectLike({
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'Invocations' }) }),
        }),
      ]),
      AlarmActions: [{ Ref: Match.stringLikeRegexp('ToZero') }],
    });
  });

  it('tells the functions the component and the cold-start wait, and lets the chat function invoke it', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    const chat = functions.find((f) => String(f.Properties.Description).includes('chat'));
    expect(JSON.parse(chat?.Properties.Environment.Variables.MODELGATE_LARGE_MODELS)).toEqual([
      {
        name: 'nightly',
        endpoint: 'zero-llmnightly',
        protocol: 'tgi',
        component,
        coldStartWaitSeconds: 120,
      },
    ]);
    const invoke = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(invoke).toContain(`:inference-component/${component}`);
  });

  it('is cdk-nag clean', () => {
    const report = JSON.parse(readFileSync(join(app.synth().directory, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports.flatMap((r: { violations?: unknown[] }) => r.violations ?? [])).toEqual([]);
  });

  it('refuses a cold-start wait without scale to zero or as long as the chat timeout', () => {
    expect(() => parseConfig({ largeModels: [{ ...ZERO, minInstances: 1 }] })).toThrow(
      /largeModels.0.coldStartWaitSeconds: coldStartWaitSeconds needs minInstances 0/,
    );
    expect(() =>
      parseConfig({ chat: { timeoutSeconds: 60 }, largeModels: [{ ...ZERO, coldStartWaitSeconds: 60 }] }),
    ).toThrow(/must be under chat.timeoutSeconds \(60\)/);
    expect(() => parseConfig({ largeModels: [{ ...ZERO, scaleToZeroAfterMinutes: 0 }] })).toThrow(
      /scaleToZeroAfterMinutes/,
    );
  });
});
