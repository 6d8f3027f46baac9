/**
 * What a GPU endpoint runs, in synthesized templates: instance types and container presets, the model container
 * each preset gets (image per region, environment, Hugging Face or S3 weights), and `largeModels` in the
 * configuration, with the example large-model configuration synthesized whole and cdk-nag clean.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../infra/config.ts';
import { ContainerPreset, GpuInstanceType, ModelSource } from '../../infra/constructs/gpu-endpoint.ts';
import { ModelGateStack } from '../../infra/stacks/modelgate-stack.ts';
import { endpointStack, nagPacks, resolved, testApp, Validations } from './helpers.ts';

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
describe('GpuEndpoint: the model container', () => {
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
