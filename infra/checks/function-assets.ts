/**
 * A CDK policy-validation plugin that checks what `cdk synth` wrote for every
 * Node.js function, beyond what cdk-nag reads from the template: the handler
 * is an exported function of its asset, the environment is the one
 * `readEnv` reads, the asset fits Lambda and carries only binaries it can load.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type {
  IPolicyValidationContext,
  IPolicyValidationPlugin,
  PolicyValidationPluginReport,
  PolicyViolation,
} from 'aws-cdk-lib';
import { readEnv } from '../../functions/core/env.ts';
import { RUNTIME_VARIABLES } from '../function-env.ts';
import { probeHandler } from './handler-probe.ts';

/** Lambda's quota for a function's code and layers, unzipped. */
export const UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;

export const RULES = {
  handler: 'handler-is-exported-function',
  environment: 'environment-matches-readEnv',
  size: 'asset-within-unzipped-limit',
  platform: 'asset-binaries-match-architecture',
} as const;

/** ELF e_machine of each Lambda architecture. */
const ELF_MACHINES: Record<string, number> = { arm64: 0xb7, x86_64: 0x3e };

interface CfnFunction {
  readonly Properties: {
    readonly Handler?: string;
    readonly Runtime?: string;
    readonly Architectures?: string[];
    readonly Code?: { readonly S3Key?: unknown };
    readonly Environment?: { readonly Variables?: Record<string, unknown> };
    readonly Layers?: unknown[];
  };
}

export interface FunctionAssetChecksProps {
  /**
   * The unzipped size an asset may reach.
   * @default UNZIPPED_LIMIT_BYTES - Lambda's quota
   */
  readonly unzippedLimitBytes?: number;
}

export class FunctionAssetChecks implements IPolicyValidationPlugin {
  readonly name = 'ModelGate function assets';
  readonly ruleIds = Object.values(RULES);
  private readonly unzippedLimitBytes: number;

  constructor(props: FunctionAssetChecksProps = {}) {
    this.unzippedLimitBytes = props.unzippedLimitBytes ?? UNZIPPED_LIMIT_BYTES;
  }

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const violations = new Map<string, PolicyViolation & { violatingResources: unknown[] }>();
    const report = (rule: string, description: string, templatePath: string, id: string, fix: string) => {
      const key = `${rule}\u0000${description}`;
      const entry = violations.get(key) ?? { ruleName: rule, description, fix, violatingResources: [] };
      entry.violatingResources.push({ resourceLogicalId: id, templatePath, locations: ['Properties'] });
      violations.set(key, entry);
    };
    let checked = 0;
    for (const templatePath of context.templatePaths) {
      const template = JSON.parse(readFileSync(templatePath, 'utf8'));
      const assets = assetFolders(templatePath);
      for (const [id, resource] of Object.entries<CfnFunction & { Type: string }>(template.Resources ?? {})) {
        if (resource.Type !== 'AWS::Lambda::Function') continue;
        const props = resource.Properties;
        const folder = typeof props.Code?.S3Key === 'string' ? assets.get(props.Code.S3Key) : undefined;
        // Inline code and functions of other languages (CDK's own providers) are not ours to run.
        if (!folder || !props.Runtime?.startsWith('nodejs') || !existsSync(join(folder, 'index.mjs')))
          continue;
        const found = (rule: string, description: string, fix: string) =>
          report(rule, description, templatePath, id, fix);
        const environment = resolveVariables(props.Environment?.Variables ?? {});
        checkEnvironment(environment, found);
        checkHandler(id, folder, props, environment, found);
        checkFiles(folder, props, this.unzippedLimitBytes, found);
        checked++;
      }
    }
    return {
      success: violations.size === 0,
      violations: [...violations.values()] as PolicyViolation[],
      metadata: { functionsChecked: String(checked) },
    };
  }
}

type Found = (rule: string, description: string, fix: string) => void;

/** Every variable set is one `readEnv` reads, or one Node.js, glibc or Powertools reads. */
function checkEnvironment(environment: Record<string, string>, found: Found): void {
  const reads = new Set<string>();
  const source = new Proxy({ MODELGATE_MODEL_BUCKET: 'bucket', ...environment } as NodeJS.ProcessEnv, {
    get(target, key) {
      if (typeof key === 'string') reads.add(key);
      return target[key as string];
    },
  });
  try {
    readEnv(source);
  } catch (error) {
    found(RULES.environment, `readEnv refuses the environment: ${(error as Error).message}`, 'fix the value');
    return;
  }
  for (const name of Object.keys(environment)) {
    if (reads.has(name) || name in RUNTIME_VARIABLES) continue;
    found(
      RULES.environment,
      `sets ${name}, which readEnv (functions/core/env.ts) does not read`,
      'read it in readEnv, list it in RUNTIME_VARIABLES (infra/function-env.ts) with its reader, or stop setting it',
    );
  }
}

/** The handler module loads with the template's environment and exports a function by that name. */
function checkHandler(
  id: string,
  folder: string,
  props: CfnFunction['Properties'],
  environment: Record<string, string>,
  found: Found,
): void {
  const handler = props.Handler ?? '';
  const dot = handler.lastIndexOf('.');
  const [file, exportName] = [handler.slice(0, dot), handler.slice(dot + 1)];
  const module = ['.mjs', '.js', '.cjs']
    .map((ext) => `${file}${ext}`)
    .find((f) => existsSync(join(folder, f)));
  if (dot < 1 || !module) {
    found(
      RULES.handler,
      `Handler '${handler}' names no module of the asset`,
      'point Handler at index.<export>',
    );
    return;
  }
  const result = probeHandler({
    asset: folder,
    file: module,
    exportName,
    functionName: id,
    runtime: props.Runtime ?? 'nodejs',
    environment,
  });
  if ('error' in result) {
    found(
      RULES.handler,
      `${module} fails at init with the template's environment: ${result.error}`,
      'set what the function requires (readEnv names it), or stop requiring it',
    );
  } else if (result.type !== 'function') {
    found(
      RULES.handler,
      `Handler '${handler}': ${module} exports '${exportName}' as ${result.type}, not a function`,
      'export the handler by the name the template uses',
    );
  }
}

/** The unzipped size and every native binary of the asset. */
function checkFiles(
  folder: string,
  props: CfnFunction['Properties'],
  limitBytes: number,
  found: Found,
): void {
  const architecture = props.Architectures?.[0] ?? 'x86_64';
  let bytes = 0;
  for (const file of filesOf(folder)) {
    bytes += statSync(file).size;
    const kind = binaryKind(file);
    if (kind === undefined) continue;
    if (kind !== `elf:${ELF_MACHINES[architecture]}`) {
      found(
        RULES.platform,
        `${file.slice(folder.length + 1)} is ${describe(kind)}; the function runs on linux/${architecture}`,
        'ship only the binaries of the function’s platform (see copyOnnxRuntime)',
      );
    }
  }
  if ((props.Layers ?? []).length > 0) {
    found(RULES.size, 'has layers, whose size this check cannot see', 'count the layers in the size check');
  }
  if (bytes > limitBytes) {
    const mib = (n: number) => `${Number((n / 2 ** 20).toFixed(1))} MiB`;
    found(
      RULES.size,
      `asset is ${mib(bytes)} unzipped; Lambda allows ${mib(limitBytes)} with layers`,
      'prune the asset',
    );
  }
}

/** `elf:<e_machine>`, `mach-o`, `pe`, or undefined for a file that is not an executable binary. */
export function binaryKind(file: string): string | undefined {
  const head = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  const read = readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  if (read >= 20 && head.readUInt32BE(0) === 0x7f454c46) {
    return `elf:${head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18)}`;
  }
  if (read >= 4 && [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe].includes(head.readUInt32BE(0))) {
    return 'mach-o';
  }
  // Fat Mach-O shares 0xcafebabe with Java class files; a .class file has no business in these assets either.
  if (read >= 4 && head.readUInt32BE(0) === 0xcafebabe) return 'mach-o';
  if (read >= 2 && head.toString('latin1', 0, 2) === 'MZ' && /\.(node|dll|exe)$/.test(file)) return 'pe';
  return undefined;
}

function describe(kind: string): string {
  const machine = Number(kind.split(':')[1]);
  const names: Record<number, string> = { 183: 'linux/arm64', 62: 'linux/x64', 3: 'linux/x86' };
  if (kind.startsWith('elf:')) return `an ELF binary for ${names[machine] ?? `machine ${machine}`}`;
  return kind === 'mach-o' ? 'a Mach-O (darwin) binary' : 'a Windows (PE) binary';
}

function* filesOf(folder: string): Generator<string> {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* filesOf(path);
    else if (entry.isFile()) yield path;
  }
}

/** Asset folders by the S3 key the template names, from `<stack>.assets.json` beside the template. */
function assetFolders(templatePath: string): Map<string, string> {
  const manifest = join(
    dirname(templatePath),
    basename(templatePath).replace(/\.template\.json$/, '.assets.json'),
  );
  const folders = new Map<string, string>();
  if (!existsSync(manifest)) return folders;
  const files = JSON.parse(readFileSync(manifest, 'utf8')).files ?? {};
  for (const asset of Object.values<{
    source: { path: string };
    destinations: Record<string, { objectKey: string }>;
  }>(files)) {
    for (const destination of Object.values(asset.destinations)) {
      folders.set(destination.objectKey, join(dirname(templatePath), asset.source.path));
    }
  }
  return folders;
}

/** Template values as the function would see them: references become placeholders, joins are joined. */
export function resolveVariables(variables: Record<string, unknown>): Record<string, string> {
  const resolve = (value: unknown): string => {
    if (typeof value === 'string' || typeof value === 'number') return String(value);
    const object = (value ?? {}) as Record<string, unknown>;
    if ('Ref' in object) return `ref-${object.Ref}`;
    if ('Fn::GetAtt' in object)
      return `arn:aws:placeholder:us-east-1:123456789012:${[object['Fn::GetAtt']].flat().join('.')}`;
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(separator);
    }
    return 'unresolved';
  };
  return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolve(v)]));
}
