/**
 * Shared setup for the CDK template tests: apps synthesized with cdk.json's feature flags, the ModelGate stack's
 * template, a bare stack, the cdk-nag packs `cdk synth` runs, and an inline handler.
 */
import { readFileSync } from 'node:fs';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { parseConfig } from '../../infra/config.ts';
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
export function nagPacks(app: App) {
  return [new AwsSolutionsChecks(app), new HIPAASecurityChecks(app)];
}

export { Validations };

/** A Lambda function with inline code, for constructs that need a handler but not its bundle. */
export function inlineHandler(stack: Stack, id = 'Fn'): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
}
