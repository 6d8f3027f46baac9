import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ENV } from '../../functions/core/env.ts';
import { binaryKind, FunctionAssetChecks, RULES } from '../../infra/checks/function-assets.ts';
import { ConfigSchema, loadConfig } from '../../infra/config.ts';
import { NodeFunction } from '../../infra/constructs/node-function.ts';
import { ModelGateStack } from '../../infra/stacks/modelgate-stack.ts';
import { nagPacks, testApp, Validations } from './helpers.ts';

const root = new URL('../..', import.meta.url).pathname;
const CONFIGS = ['modelgate.config.json', 'examples/llm.config.json', 'examples/maximal.config.json'];

type Report = {
  pluginReports: Array<{
    pluginName: string;
    violations?: Array<{ ruleName: string; description: string; violatingResources: unknown[] }>;
  }>;
};

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

describe('the template, checked beyond cdk-nag', () => {
  it.each(CONFIGS)('synth of %s is cdk-nag clean (AwsSolutions, HIPAA Security)', (path) => {
    const app = testApp();
    const config = loadConfig(join(root, path));
    new ModelGateStack(app, config.stackName, { config, env: { region: config.region } });
    Validations.of(app).addPlugins(...nagPacks(app));
    expect(violationsOf(synthReport(app))).toEqual([]);
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
