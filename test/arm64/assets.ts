/**
 * The functions `cdk synth` deploys, read from the cloud assembly: for each, its asset folder,
 * Lambda runtime, architecture, Handler and environment, and the source module it was built from.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ENV } from '../../functions/core/env.ts';
import { ROOT } from './prerequisites.ts';

/** The stack's functions by the logical id prefix CDK gives them, with their entry modules. */
export const FUNCTIONS = {
  api: { prefix: 'InferenceFunction', source: 'functions/api/index.ts' },
  chat: { prefix: 'ChatFunction', source: 'functions/chat/index.ts' },
  authorizer: { prefix: 'KeyAuthorizerFunction', source: 'functions/authorizer/index.ts' },
  batch: { prefix: 'BatchFunction', source: 'functions/batch/index.ts' },
  chunk: { prefix: 'LargeFileBatchesChunkFunction', source: 'functions/batch/chunk.ts' },
  merge: { prefix: 'LargeFileBatchesMergeFunction', source: 'functions/batch/merge.ts' },
} as const;
export type FunctionName = keyof typeof FUNCTIONS;

export interface DeployedFunction {
  readonly name: FunctionName;
  readonly logicalId: string;
  /** Unzipped asset folder in the cloud assembly. */
  readonly assetDir: string;
  /** e.g. `nodejs24.x`. */
  readonly runtime: string;
  readonly nodeMajor: number;
  readonly architectures: readonly string[];
  /** `file.export`, e.g. `index.handler`. */
  readonly handler: string;
  readonly memorySize: number;
  /** As the template sets it: values that are CloudFormation references stay objects. */
  readonly environment: Readonly<Record<string, unknown>>;
  /** The handler module the asset was bundled from. */
  readonly source: string;
}

/** `cdk synth` (cdk.json's app, cdk-nag included) into `outdir`. */
export async function synth(outdir: string): Promise<void> {
  await promisify(execFile)('npx', ['cdk', 'synth', '--quiet', '--no-notices', '-o', outdir], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
}

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

/** Every Node.js function of the stack's template in `outdir`. */
export function deployedFunctions(outdir: string): DeployedFunction[] {
  const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const stack = Object.values(manifest.artifacts).find((a) => a.type === 'aws:cloudformation:stack');
  const templateFile = stack?.properties?.templateFile;
  if (!templateFile) throw new Error(`no stack template in ${outdir}/manifest.json`);
  const template = JSON.parse(readFileSync(join(outdir, templateFile), 'utf8')) as {
    Resources: Record<string, TemplateResource>;
  };
  const functions: DeployedFunction[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const props = resource.Properties ?? {};
    const runtime = String(props.Runtime ?? '');
    if (resource.Type !== 'AWS::Lambda::Function' || !runtime.startsWith('nodejs')) continue;
    const entry = Object.entries(FUNCTIONS).find(([, f]) =>
      new RegExp(`^${f.prefix}[0-9A-F]{8}$`).test(logicalId),
    );
    if (!entry) throw new Error(`function ${logicalId} of the template is not one this suite runs`);
    const assetPath = resource.Metadata?.['aws:asset:path'];
    if (typeof assetPath !== 'string') throw new Error(`function ${logicalId} has no asset path metadata`);
    const major = /^nodejs(\d+)\.x$/.exec(runtime)?.[1];
    if (!major) throw new Error(`function ${logicalId} has runtime ${runtime}: expected nodejs<major>.x`);
    functions.push({
      name: entry[0] as FunctionName,
      logicalId,
      assetDir: join(outdir, assetPath),
      runtime,
      nodeMajor: Number(major),
      architectures: (props.Architectures as string[] | undefined) ?? ['x86_64'],
      handler: String(props.Handler),
      memorySize: Number(props.MemorySize ?? 128),
      environment: ((props.Environment as { Variables?: Record<string, unknown> })?.Variables ??
        {}) as Record<string, unknown>,
      source: join(ROOT, entry[1].source),
    });
  }
  return functions;
}

/**
 * The template's environment with CloudFormation references filled in: the model bucket by
 * its name here, any other reference (the state machine) by a placeholder ARN.
 */
export function resolvedEnvironment(fn: DeployedFunction, bucket: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fn.environment).map(([key, value]) => [
      key,
      typeof value === 'string'
        ? value
        : key === ENV.MODEL_BUCKET
          ? bucket
          : `arn:aws:states:us-east-1:123456789012:stateMachine:${JSON.stringify(value).replace(/\W/g, '')}`,
    ]),
  );
}
