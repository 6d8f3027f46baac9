/**
 * The GpuEndpoint construct's own resources, in synthesized templates: the endpoint config with data capture
 * and its timeouts, autoscaling on invocations, the execution role's and callers' IAM scope, and settings
 * refused before anything is created.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import {
  ContainerPreset,
  GpuEndpoint,
  GpuInstanceType,
  ModelSource,
} from '../../infra/constructs/gpu-endpoint.ts';
import { endpointStack, resolved, testApp } from './helpers.ts';

describe('GpuEndpoint', () => {
  it('captures data to the model bucket and sets the startup and download timeouts', () => {
    const template = Template.fromStack(endpointStack().stack);
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          InstanceType: 'ml.g5.12xlarge',
          InitialInstanceCount: 1,
          ContainerStartupHealthCheckTimeoutInSeconds: 900,
          ModelDataDownloadTimeoutInSeconds: 900,
        },
      ],
      DataCaptureConfig: {
        EnableCapture: true,
        InitialSamplingPercentage: 20,
        DestinationS3Uri: {
          'Fn::Join': ['', ['s3://', { Ref: Match.stringLikeRegexp('Models') }, '/data-capture/gpu-llm']],
        },
      },
    });
    template.hasResourceProperties('AWS::SageMaker::Endpoint', { EndpointName: 'gpu-llm' });
  });

  it('lets the endpoint write captured data into a bucket encrypted with a customer key', () => {
    const stack = new Stack(testApp(), 'GpuKms', { env: { account: '123456789012', region: 'us-east-1' } });
    const bucket = new s3.Bucket(stack, 'Models', { encryption: s3.BucketEncryption.KMS });
    new GpuEndpoint(stack, 'Llm', {
      instanceType: GpuInstanceType.ML_G5_12XLARGE,
      container: ContainerPreset.TGI,
      model: ModelSource.huggingFace('org/model'),
      dataCapture: { bucket },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Effect: 'Allow',
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ModelsKey'), 'Arn'] },
          },
        ]),
      },
    });
  });

  it('scales between min and max on invocations per instance', () => {
    const template = Template.fromStack(endpointStack({ targetInvocationsPerInstance: 30 }).stack);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'sagemaker',
      ResourceId: 'endpoint/gpu-llm/variant/AllTraffic',
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      MinCapacity: 1,
      MaxCapacity: 3,
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        TargetValue: 30,
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
      },
    });
  });

  it('has an execution role without managed policies, scoped to its image, logs, and capture prefix', () => {
    const { stack } = endpointStack();
    const [role] = resolved(stack, 'AWS::IAM::Role');
    expect(role?.Properties.ManagedPolicyArns).toBeUndefined();
    const statements = resolved(stack, 'AWS::IAM::Policy').flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        Resource: 'arn:aws:ecr:us-east-1:763104351884:repository/huggingface-pytorch-tgi-inference',
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'cloudwatch:PutMetricData',
        Resource: '*',
        Condition: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/Endpoints*' } },
      }),
    );
    for (const statement of statements) {
      expect([statement.Action].flat().every((a: string) => !a.includes('*'))).toBe(true);
    }
  });

  it('grants invoke on this endpoint only', () => {
    const { stack, endpoint } = endpointStack();
    const caller = new iam.Role(stack, 'Caller', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    endpoint.grantInvoke(caller);
    const statements = resolved(stack, 'AWS::IAM::Policy').flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    expect(statements).toContainEqual({
      Action: ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointWithResponseStream'],
      Effect: 'Allow',
      Resource: 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/gpu-llm',
    });
  });

  it('refuses impossible settings before creating anything', () => {
    expect(() => endpointStack({ initialInstanceCount: 2, maxInstances: 1 })).toThrow(
      /0 <= min \(2\) <= initial \(2\) <= max \(1\)/,
    );
    expect(() => ModelSource.s3('https://b/m.tar.gz')).toThrow(
      /modelDataUrl 'https:\/\/b\/m.tar.gz' is not an S3 URL like s3:\/\/bucket\/model.tar.gz/,
    );
    expect(() => ModelSource.huggingFace(' ')).toThrow(/model id cannot be empty/);
    expect(() => endpointStack({ startupHealthCheckTimeout: Duration.hours(2) })).toThrow(
      /startupHealthCheckTimeout must be 60-3600 seconds/,
    );
    expect(() => endpointStack({}, 'cn-north-1')).toThrow(/has no image in region cn-north-1/);
  });
});
