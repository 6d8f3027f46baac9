/**
 * The NodeFunction construct, synthesized and bundled for real: an arm64 Node.js 24 function with its own log
 * group and a least-privilege role, onnxruntime pruned to linux/arm64, hashed console assets, refused props.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { NodeFunction } from '../../infra/constructs/node-function.ts';
import { consoleAssets } from '../../infra/stacks/modelgate-stack.ts';
import { bareStack, testApp } from './helpers.ts';

const entry = new URL('../../functions/api/index.ts', import.meta.url).pathname;

describe('NodeFunction', () => {
  it('is a Node.js 24 arm64 function with tracing, its own log group and retention', () => {
    const stack = bareStack();
    new NodeFunction(stack, 'Fn', { entry, memorySize: 1024, timeout: Duration.seconds(20) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 20,
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      EphemeralStorage: { Size: 2048 },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('FnLogs') } },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  it('has a role without managed policies that can write only to its own log group', () => {
    const stack = bareStack();
    new NodeFunction(stack, 'Fn', { entry });
    const template = Template.fromStack(stack);
    const roles = Object.values(template.findResources('AWS::IAM::Role'));
    expect(roles).toHaveLength(1);
    expect(roles[0]?.Properties.ManagedPolicyArns).toBeUndefined();
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement,
    );
    expect(statements).toContainEqual({
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/^FnLogs/), 'Arn'] },
    });
  });

  it('bundles ESM with onnxruntime-node pruned to linux/arm64', () => {
    const app = testApp(true);
    const stack = new Stack(app, 'Bundled');
    new NodeFunction(stack, 'Fn', { entry });
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0];
    const asset = join(app.outdir, fn?.Metadata['aws:asset:path']);
    expect(readdirSync(asset).sort()).toEqual(['index.mjs', 'index.mjs.map', 'node_modules']);
    const ort = join(asset, 'node_modules/onnxruntime-node');
    expect(readdirSync(join(ort, 'bin/napi-v6'))).toEqual(['linux']);
    expect(readdirSync(join(ort, 'bin/napi-v6/linux'))).toEqual(['arm64']);
    expect(existsSync(join(ort, 'bin/napi-v6/linux/arm64/onnxruntime_binding.node'))).toBe(true);
    expect(existsSync(join(asset, 'node_modules/onnxruntime-common/package.json'))).toBe(true);
    // node:http through the CommonJS alias, never as an ESM import (Node 24's facade loads undici).
    const bundle = readFileSync(join(asset, 'index.mjs'), 'utf8');
    expect(bundle).not.toMatch(/from\s*["'](node:)?http["']/);
    expect(bundle).toContain('process.getBuiltinModule("node:http")');
  });

  it("ships the api function with the console's and the reference's content-hashed assets", () => {
    const app = testApp(true);
    const stack = new Stack(app, 'Console');
    new NodeFunction(stack, 'Fn', { entry, afterBundling: consoleAssets });
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0];
    const assets = join(app.outdir, fn?.Metadata['aws:asset:path'], 'assets');
    const manifest = JSON.parse(readFileSync(join(assets, 'manifest.json'), 'utf8')) as Record<
      string,
      string
    >;
    expect(Object.keys(manifest).sort()).toEqual([
      'console.css',
      'console.js',
      'docs.css',
      'docs.js',
      'swagger-ui.css',
      'swagger-ui.js',
    ]);
    for (const file of Object.values(manifest)) {
      expect(file).toMatch(/^[\w-]+\.[0-9a-f]{12}\.(js|css)$/);
      expect(existsSync(join(assets, file))).toBe(true);
    }
  });

  it('refuses memory and timeouts Lambda does not have', () => {
    expect(() => new NodeFunction(bareStack(), 'Fn', { entry, memorySize: 64 })).toThrow(
      /memorySize must be 128-10240 MiB, got 64/,
    );
    expect(() => new NodeFunction(bareStack(), 'Fn', { entry, timeout: Duration.minutes(20) })).toThrow(
      /timeout must be at most 15 minutes/,
    );
  });
});
