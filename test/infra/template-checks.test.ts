/**
 * The templates of the shipped configurations checked beyond the constructs: cdk-nag and CloudFormation Guard
 * clean, invoke permissions, the bundled functions' handler, environment and binaries, and what each check catches.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ENV } from '../../functions/core/env.ts';
import { binaryKind, FunctionAssetChecks, RULES } from '../../infra/checks/function-assets.ts';
import { GUARD_PLUGIN, GUARD_RULES, guardPack } from '../../infra/checks/guard.ts';
import { synthChecks } from '../../infra/checks/synth-checks.ts';
import { ConfigSchema, loadConfig } from '../../infra/config.ts';
import { NodeFunction } from '../../infra/constructs/node-function.ts';
import { ModelGateStack } from '../../infra/stacks/modelgate-stack.ts';
import { testApp, Validations } from './helpers.ts';

const root = new URL('../..', import.meta.url).pathname;
const CONFIGS = ['modelgate.config.json', 'examples/llm.config.json', 'examples/maximal.config.json'];

type Violation = { ruleName: string; description: string; reason?: string };
type Report = {
  pluginReports: Array<{
    pluginName: string;
    conclusion?: string;
    violations?: Violation[];
    suppressedViolations?: Violation[];
  }>;
};
type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

const resourcesOf = (template: Template, type: string) =>
  Object.fromEntries(Object.entries(template.Resources).filter(([, r]) => r.Type === type));

/** Synthesizes and returns the validation report `cdk synth` writes (synth throws when it has findings). */
function synthReport(app: ReturnType<typeof testApp>): Report {
  try {
    app.synth();
  } catch (error) {
    if ((error as Error).name !== 'ValidationFailed') throw error;
  }
  return JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8'));
}

const violationsOf = (report: Report) => report.pluginReports.flatMap((r) => r.violations ?? []);

describe.each(CONFIGS)('synth of %s', (path) => {
  const config = loadConfig(join(root, path));
  let report: Report;
  let template: Template;
  beforeAll(() => {
    const app = testApp();
    new ModelGateStack(app, config.stackName, { config, env: { region: config.region } });
    Validations.of(app).addPlugins(...synthChecks(app));
    report = synthReport(app);
    template = JSON.parse(readFileSync(join(app.outdir, `${config.stackName}.template.json`), 'utf8'));
  }, 120_000);

  it('is clean: cdk-nag AwsSolutions and HIPAA Security, CloudFormation Guard Control Tower rules', () => {
    expect(violationsOf(report)).toEqual([]);
    expect(report.pluginReports.find((r) => r.pluginName === GUARD_PLUGIN)?.conclusion).toBe('success');
    // Fewer days of log retention than Control Tower's year are the operator's, and say so.
    const retention = report.pluginReports
      .flatMap((r) => r.suppressedViolations ?? [])
      .filter((v) => v.ruleName === GUARD_RULES.logRetention);
    if (config.logRetentionDays >= 365) expect(retention).toEqual([]);
    else expect(retention[0]?.reason).toContain(`logRetentionDays to ${config.logRetentionDays}`);
  });

  it('lets only API Gateway invoke functions, from this API in this account (the Guard acknowledgement says so)', () => {
    const apis = Object.keys(resourcesOf(template, 'AWS::ApiGateway::RestApi'));
    const permissions = Object.values(resourcesOf(template, 'AWS::Lambda::Permission'));
    expect(permissions.length).toBeGreaterThan(0);
    for (const { Properties: p } of permissions) {
      expect(p.Principal).toBe('apigateway.amazonaws.com');
      const [separator, parts] = (p.SourceArn as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
      const arn = parts
        .map((part) => (typeof part === 'string' ? part : `<${(part as { Ref?: string }).Ref}>`))
        .join(separator);
      const api = arn.match(
        /^arn:<AWS::Partition>:execute-api:(?:[a-z0-9-]+|<AWS::Region>):<AWS::AccountId>:<(\w+)>\/./,
      );
      expect(apis, arn).toContain(api?.[1]);
    }
  });
});

describe('the template, checked beyond cdk-nag', () => {
  it('runs on every cdk synth: cdk-nag, the function asset checks and Guard are the app’s plugins', () => {
    const app = testApp();
    expect(synthChecks(app).map((p) => p.name)).toEqual([
      'AwsSolutions',
      'HIPAA.Security',
      new FunctionAssetChecks().name,
      GUARD_PLUGIN,
    ]);
    // infra/app.ts adds exactly that list, and nothing else decides what synth checks.
    expect(readFileSync(join(root, 'infra/app.ts'), 'utf8')).toMatch(
      /^Validations\.of\(app\)\.addPlugins\(\.\.\.synthChecks\(app\)\);$/m,
    );
  });

  it('fails synth on a CloudFormation Guard finding and names the rule in the report', () => {
    const app = testApp();
    new sqs.Queue(new Stack(app, 'Queue'), 'NoDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(app).addPlugins(guardPack());
    expect(() => app.synth()).toThrow(/CT\.SQS\.PR\.1/);
    const found = violationsOf(JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')));
    expect(found.map((v) => v.ruleName)).toContain(GUARD_RULES.queueDeadLetters);
  });

  it('has a maximal example configuration that sets every option the schema accepts', () => {
    const raw = JSON.parse(readFileSync(join(root, 'examples/maximal.config.json'), 'utf8'));
    const unset = unsetOptions(ConfigSchema, raw, '');
    expect(unset).toEqual([]);
  });

  it('every function of the maximal configuration, as bundled: handler exported, environment read, size, arm64 binaries only', () => {
    const app = testApp(true);
    const config = loadConfig(join(root, 'examples/maximal.config.json'));
    new ModelGateStack(app, config.stackName, { config, env: { region: config.region } });
    Validations.of(app).addPlugins(new FunctionAssetChecks());
    expect(violationsOf(synthReport(app))).toEqual([]);
    // It ran on every function of ours: api, chat, authorizer, batch, batch chunk, batch merge.
    const again = new FunctionAssetChecks().validate({
      templatePaths: [join(app.outdir, `${config.stackName}.template.json`)],
      stackTemplates: [],
      appConstruct: app,
    });
    expect(again.metadata?.functionsChecked).toBe('6');
  });

  it('finds a variable readEnv does not read, a required one missing, and a handler that is not exported', () => {
    const app = testApp(true);
    const stack = new Stack(app, 'Broken');
    // The merge function requires the model bucket; nothing gives it one here.
    new NodeFunction(stack, 'NoBucket', {
      entry: join(root, 'functions/batch/merge.ts'),
      onnxRuntime: false,
    });
    const typo = new NodeFunction(stack, 'Typo', {
      entry: join(root, 'functions/authorizer/index.ts'),
      onnxRuntime: false,
      environment: { MODELGATE_REGISTRY_TTL: '5', [ENV.REGISTRY_TTL_SECONDS]: '5' },
    });
    (typo.function.node.defaultChild as lambda.CfnFunction).handler = 'index.authorize';
    Validations.of(app).addPlugins(new FunctionAssetChecks());
    const found = violationsOf(synthReport(app)).map((v) => [v.ruleName, v.description]);
    expect(found).toEqual(
      expect.arrayContaining([
        [
          RULES.handler,
          expect.stringMatching(/index\.mjs fails at init .*MODELGATE_MODEL_BUCKET is not set/),
        ],
        [
          RULES.environment,
          'sets MODELGATE_REGISTRY_TTL, which readEnv (functions/core/env.ts) does not read',
        ],
        [
          RULES.handler,
          "Handler 'index.authorize': index.mjs exports 'authorize' as undefined, not a function",
        ],
      ]),
    );
    expect(found).toHaveLength(3);
  });

  it('finds x64 and darwin binaries in an arm64 asset, and an asset over the unzipped limit', () => {
    const app = testApp(true);
    const bin = join(root, 'node_modules/onnxruntime-node/bin/napi-v6');
    // An asset pruned for the wrong platform: the bindings of linux/x64 and darwin copied in.
    new NodeFunction(new Stack(app, 'Binaries'), 'WrongPlatform', {
      entry: join(root, 'functions/authorizer/index.ts'),
      onnxRuntime: false,
      afterBundling: (_input, output) => [
        `mkdir -p "${output}/native"`,
        `cp "${bin}/linux/x64/onnxruntime_binding.node" "${output}/native/x64.node"`,
        `cp "${bin}/darwin/arm64/onnxruntime_binding.node" "${output}/native/darwin.node"`,
      ],
    });
    // Lambda's quota is 250 MiB; half a MiB stands in for it, so a small asset crosses it.
    Validations.of(app).addPlugins(new FunctionAssetChecks({ unzippedLimitBytes: 512 * 1024 }));
    const found = violationsOf(synthReport(app)).map((v) => [v.ruleName, v.description]);
    expect(found).toEqual(
      expect.arrayContaining([
        [RULES.platform, 'native/x64.node is an ELF binary for linux/x64; the function runs on linux/arm64'],
        [RULES.platform, 'native/darwin.node is a Mach-O (darwin) binary; the function runs on linux/arm64'],
        [
          RULES.size,
          expect.stringMatching(/^asset is \d+(\.\d)? MiB unzipped; Lambda allows 0\.5 MiB with layers$/),
        ],
      ]),
    );
    expect(found).toHaveLength(3);
  });

  it('tells binaries by their headers: ELF machine, Mach-O, PE', () => {
    const bin = join(root, 'node_modules/onnxruntime-node/bin/napi-v6');
    expect(binaryKind(join(bin, 'linux/arm64/onnxruntime_binding.node'))).toBe('elf:183');
    expect(binaryKind(join(bin, 'linux/x64/libonnxruntime.so.1'))).toBe('elf:62');
    expect(binaryKind(join(bin, 'darwin/arm64/onnxruntime_binding.node'))).toBe('mach-o');
    expect(binaryKind(join(bin, 'win32/arm64/onnxruntime.dll'))).toBe('pe');
    expect(binaryKind(join(root, 'package.json'))).toBeUndefined();
  });
});

/** Paths of schema options a configuration leaves unset (objects and array elements walked). */
function unsetOptions(schema: z.ZodType, value: unknown, path: string): string[] {
  const def = (schema as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  if (def.type === 'default' || def.type === 'optional' || def.type === 'pipe') {
    return unsetOptions((def.innerType ?? def.in) as z.ZodType, value, path);
  }
  if (def.type === 'object') {
    const shape = def.shape as Record<string, z.ZodType>;
    if (typeof value !== 'object' || value === null) return [path || '(root)'];
    return Object.entries(shape).flatMap(([key, child]) => {
      const at = path ? `${path}.${key}` : key;
      return key in value ? unsetOptions(child, (value as Record<string, unknown>)[key], at) : [at];
    });
  }
  if (def.type === 'array' && Array.isArray(value)) {
    // Every option of an element is set by at least one element.
    const perElement = value.map((v) => new Set(unsetOptions(def.element as z.ZodType, v, `${path}[]`)));
    return perElement.length === 0
      ? [`${path}[]`]
      : [...(perElement[0] ?? [])].filter((p) => perElement.every((s) => s.has(p)));
  }
  return [];
}
