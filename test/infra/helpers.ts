/**
 * Shared setup for the CDK template tests: apps synthesized with cdk.json's feature flags, the ModelGate stack's
 * template, a bare stack, the cdk-nag packs `cdk synth` runs, an inline handler, and a stack holding one
 * GpuEndpoint with its resources resolved as CloudFormation will.
 */
import { readFileSync } from 'node:fs';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { parseConfig } from '../../infra/config.ts';
import {
  ContainerPreset,
  GpuEndpoint,
  GpuInstanceType,
  ModelSource,
} from '../../infra/constructs/gpu-endpoint.ts';
import { ModelGateStack } from '../../infra/stacks/modelgate-stack.ts';

/** The feature flags of cdk.json: tests synthesize with what `cdk synth` uses. */
const CDK_CONTEXT = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;

/** An app that skips asset bundling (esbuild) unless asked, so template tests stay fast. */
export function testApp(bundle = false): App {
  const assets = bundle ? { 'aws:cdk:enable-asset-metadata': true } : { 'aws:cdk:bundling-stacks': [] };
  return new App({ context: { ...CDK_CONTEXT, ...assets } });
}

export function modelGateTemplate(rawConfig: unknown = {}): { stack: ModelGateStack; template: Template } {
  const stack = new ModelGateStack(testApp(), 'ModelGate', { config: parseConfig(rawConfig) });
  return { stack, template: Template.fromStack(stack) };
}

export function bareStack(): Stack {
  return new Stack(testApp(), 'Test');
}

/** The cdk-nag packs `cdk synth` runs (infra/app.ts). */
export { nagPacks } from '../../infra/checks/synth-checks.ts';

export { Validations };

/** A Lambda function with inline code, for constructs that need a handler but not its bundle. */
export function inlineHandler(stack: Stack, id = 'Fn'): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
}

/**
 * A stack in `region` holding one GpuEndpoint (TGI on ml.g5.12xlarge, a Hugging Face model, 1 to 3
 * instances, 20% data capture to a bucket of its own), with `props` changed.
 */
export function endpointStack(
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
export function resolved(stack: Stack, type: string): Array<Record<string, any>> {
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

/**
 * Every (S3 action, place) pair granted to the policies whose logical id starts with `policyPrefix`, however the
 * statements were merged: a place is the first of `places` (`models`, `batch/input`…) its resource names, as
 * `models/*`, or `other`; listing the bucket is named by the prefix its condition allows.
 */
export function s3Grants(template: Template, policyPrefix: string, places: readonly string[]): string[] {
  type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };
  const pattern = new RegExp(
    `(${places.map((p) => p.replaceAll('/', '\\/').replaceAll('.', '\\.')).join('|')})/\\*`,
  );
  const place = (r: unknown) => JSON.stringify(r).match(pattern)?.[0] ?? 'other';
  return Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([id]) => id.startsWith(policyPrefix))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[])
    .filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')))
    .flatMap((s) =>
      [s.Action]
        .flat()
        .flatMap((action) =>
          action === 's3:ListBucket'
            ? [`${action} ${place(s.Condition)}`]
            : [s.Resource].flat().map((r) => `${action} ${place(r)}`),
        ),
    )
    .sort();
}
