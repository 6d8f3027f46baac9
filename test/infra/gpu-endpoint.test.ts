/**
 * The GpuEndpoint construct and large models in the configuration, in synthesized templates: container presets,
 * endpoint config, autoscaling, IAM scope, refused settings, and the example large-model configuration.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../infra/config.ts';
import {
  ContainerPreset,
  GpuEndpoint,
  GpuInstanceType,
  ModelSource,
} from '../../infra/constructs/gpu-endpoint.ts';
import { ModelGateStack } from '../../infra/stacks/modelgate-stack.ts';
import { nagPacks, testApp, Validations } from './helpers.ts';

function endpointStack(
  props: Partial<ConstructorParameters<typeof GpuEndpoint>[2]> = {},
  region = 'us-east-1',
) {
  const stack = new Stack(testApp(), 'Gpu', { env: { account: '123456789012', region } });
  const bucket = new s3.Bucket(stack, 'Models');
  const endpoint = new GpuEndpoint(stack, 'Llm', {
    instanceType: GpuInstanceType.ML_G5_12XLARGE,
    container: ContainerPreset.TGI,
    model: ModelSource.huggingFace('org/model'),
    initialInstanceCount: 1,
    maxInstances: 3,
    dataCapture: { bucket, samplingPercentage: 20 },
    ...props,
  });
  return { stack, endpoint, bucket };
}

const PSEUDO: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com' };

/** A template's resources with partition and URL suffix joined in, as CloudFormation will. */
// biome-ignore lint/suspicious/noExplicitAny: template JSON is untyped.
function resolved(stack: Stack, type: string): Array<Record<string, any>> {
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      if (typeof o.Ref === 'string' && PSEUDO[o.Ref]) return PSEUDO[o.Ref];
      if (Array.isArray(o['Fn::Join'])) {
        const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
        const done = parts.map(resolve);
        if (done.every((p) => typeof p === 'string')) return done.join(sep);
        return { 'Fn::Join': [sep, done] };
      }
      return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolve(v)]));
    }
    return value;
  };
  const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, { Type: string }> };
  return Object.values(template.Resources)
    .filter((r) => r.Type === type)
    .map(
      // biome-ignore lint/suspicious/noExplicitAny: template JSON is untyped.
      (r) => resolve(r) as Record<string, any>,
    );
}

describe('GpuInstanceType and ContainerPreset', () => {
  it('knows GPU counts and refuses unknown instance types', () => {
    expect(GpuInstanceType.of('ml.g5.2xlarge').gpus).toBe(1);
    expect(GpuInstanceType.of('ml.g5.48xlarge').gpus).toBe(8);
    expect(() => GpuInstanceType.of('ml.t3.medium')).toThrow(
      /'ml.t3.medium' is not a known SageMaker GPU instance type; use one of ml.g5.xlarge/,
    );
  });

  it('takes presets by name and images of your own with their protocol', () => {
    expect(ContainerPreset.of('lmi').protocol).toBe('lmi');
    expect(ContainerPreset.of('triton').protocol).toBe('v2');
    expect(ContainerPreset.of('123456789012.dkr.ecr.us-east-1.amazonaws.com/my-llm:1', 'openai').image).toBe(
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/my-llm:1',
    );
    expect(() => ContainerPreset.of('my-llm')).toThrow(/say which protocol it speaks/);
    expect(() => ContainerPreset.of('not an image', 'openai')).toThrow(/is not an image URI/);
  });
});

describe('GpuEndpoint', () => {
  it('runs the preset image of the region with the env the container needs', () => {
    const [tgi] = resolved(endpointStack().stack, 'AWS::SageMaker::Model');
    expect(tgi?.Properties.PrimaryContainer).toEqual({
      Image:
        '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-tgi-inference:2.6.0-tgi3.2.3-gpu-py311-cu124-ubuntu22.04',
      Environment: {
        HF_MODEL_ID: 'org/model',
        SM_NUM_GPUS: '4',
        MAX_INPUT_TOKENS: '4096',
        MAX_TOTAL_TOKENS: '8192',
      },
    });
    const lmiStack = endpointStack(
      { container: ContainerPreset.LMI, instanceType: GpuInstanceType.ML_G5_2XLARGE },
      'ap-east-1',
    ).stack;
    const [lmi] = resolved(lmiStack, 'AWS::SageMaker::Model');
    expect(lmi?.Properties.PrimaryContainer).toEqual({
      Image: '871362719292.dkr.ecr.ap-east-1.amazonaws.com/djl-inference:0.35.0-lmi17.0.0-cu128',
      Environment: { HF_MODEL_ID: 'org/model', OPTION_ROLLING_BATCH: 'vllm', TENSOR_PARALLEL_DEGREE: '1' },
    });
  });

  it('starts TGI on S3 artifacts with HF_MODEL_ID at /opt/ml/model, which its SageMaker entrypoint requires', () => {
    const { stack } = endpointStack({ model: ModelSource.s3('s3://artifacts/llm/model.tar.gz') });
    const [tgi] = resolved(stack, 'AWS::SageMaker::Model');
    expect(tgi?.Properties.PrimaryContainer).toMatchObject({
      ModelDataUrl: 's3://artifacts/llm/model.tar.gz',
      Environment: { HF_MODEL_ID: '/opt/ml/model', SM_NUM_GPUS: '4' },
    });
    const statements = resolved(stack, 'AWS::IAM::Policy').flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::artifacts/llm/model.tar.gz',
      }),
    );
    // LMI finds /opt/ml/model by itself: no model id to set.
    const lmi = endpointStack({
      container: ContainerPreset.LMI,
      model: ModelSource.s3('s3://artifacts/llm/model.tar.gz'),
    }).stack;
    const [lmiModel] = resolved(lmi, 'AWS::SageMaker::Model');
    expect(lmiModel?.Properties.PrimaryContainer.Environment.HF_MODEL_ID).toBeUndefined();
  });

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

describe('the example large-model configuration', () => {
  const config = loadConfig(new URL('../../examples/llm.config.json', import.meta.url).pathname);

  it('validates, and synthesizes an endpoint only the chat and batch functions may invoke, cdk-nag clean', () => {
    const app = testApp();
    const stack = new ModelGateStack(app, 'Llm', { config });
    Validations.of(app).addPlugins(...nagPacks(app));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SageMaker::Endpoint', 1);
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [Match.objectLike({ InstanceType: 'ml.g5.2xlarge' })],
    });
    const policies = template.findResources('AWS::IAM::Policy');
    const invokers = Object.entries(policies).filter(([, p]) =>
      JSON.stringify(p.Properties.PolicyDocument).includes('sagemaker:InvokeEndpoint'),
    );
    expect(invokers.map(([id]) => id).sort()).toEqual([
      expect.stringMatching(/^BatchFunction/),
      expect.stringMatching(/^ChatRole/),
    ]);
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    const chat = functions.find((f) => String(f.Properties.Description).includes('chat'));
    expect(chat?.Properties.Timeout).toBe(900);
    expect(JSON.parse(chat?.Properties.Environment.Variables.MODELGATE_LARGE_MODELS)).toEqual([
      { name: 'qwen2-5-7b', endpoint: 'llm-llmqwen257b', protocol: 'lmi' },
    ]);
    const report = JSON.parse(readFileSync(join(app.synth().directory, 'validation-report.json'), 'utf8'));
    expect(report.pluginReports.flatMap((r: { violations?: unknown[] }) => r.violations ?? [])).toEqual([]);
  });

  it('refuses unknown instance types and inconsistent counts with the path of the mistake', () => {
    const bad = {
      name: 'x',
      container: 'lmi',
      hfModelId: 'a/b',
      instanceType: 'ml.m5.large',
      initialInstanceCount: 3,
      maxInstances: 2,
    };
    expect(() => parseConfig({ largeModels: [bad] })).toThrow(
      /largeModels.0.instanceType: instance type 'ml.m5.large' is not a known SageMaker GPU instance type[\s\S]*largeModels.0: instance counts must satisfy/,
    );
    expect(() =>
      parseConfig({
        largeModels: [
          { ...bad, instanceType: 'ml.g5.xlarge', container: 'my/image:1', initialInstanceCount: 1 },
        ],
      }),
    ).toThrow(/a container image of your own needs a protocol/);
  });

  it('declares no large model by default: an endpoint costs money', () => {
    expect(parseConfig({}).largeModels).toEqual([]);
  });
});
