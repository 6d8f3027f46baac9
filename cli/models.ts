/**
 * The CLI's `modelgate models` commands on the S3 model registry: push, list, describe, history, the alias
 * changes (promote, canary, shadow, rollback), and deleting a version.
 */
import { readFileSync } from 'node:fs';
import { type Alias, type Manifest, PRODUCTION } from '../functions/core/registry/manifest.ts';
import { Registry } from '../functions/core/registry/store.ts';
import { type Io, json, progressBar, table, UsageError } from './format.ts';
import { type AliasChange, AliasStore } from './registry/aliases.ts';
import { publishModel } from './registry/publish.ts';
import type { Target } from './target.ts';

export interface ModelFlags {
  readonly json: boolean;
  readonly name?: string | undefined;
  readonly version?: string | undefined;
  readonly weight?: string | undefined;
  readonly alias?: string | undefined;
  readonly off?: boolean | undefined;
  readonly description?: string | undefined;
  readonly labels?: string | undefined;
  readonly features?: string | undefined;
  readonly 'set-alias'?: string | undefined;
}

/** `modelgate models <command> …`; returns the exit code. */
export async function models(
  command: string | undefined,
  args: string[],
  flags: ModelFlags,
  target: Target,
  io: Io,
): Promise<number> {
  const store = new AliasStore(target.s3, target.bucket);
  const registry = new Registry({ s3: target.s3, bucket: target.bucket, ttlSeconds: 0 });
  const one = (what: string): string => {
    if (args.length !== 1) throw new UsageError(`models ${command} needs exactly one ${what}`);
    return args[0] as string;
  };
  const version = (): string => {
    if (!flags.version) throw new UsageError(`models ${command} needs --version V`);
    return flags.version;
  };
  const changed = (change: AliasChange) => reportChange(change, one('model name'), flags.json, io);

  switch (command) {
    case 'push':
      return push(one('ONNX file'), flags, target, store, io);
    case 'list':
      return list(registry, store, flags.json, target, io);
    case 'describe':
      return describe(one('model name'), registry, store, flags.json, io);
    case 'history':
      return history(one('model name'), store, flags.json, io);
    case 'promote':
      return changed(await store.promote(one('model name'), version(), flags.alias ?? PRODUCTION));
    case 'canary': {
      const name = one('model name');
      if (flags.weight === undefined) throw new UsageError('models canary needs --weight PERCENT');
      const weight = Number(flags.weight);
      if (flags.weight.trim() === '' || !Number.isFinite(weight)) {
        throw new UsageError(`--weight must be a number from 0 to 100, got '${flags.weight}'`);
      }
      return changed(await store.canary(name, version(), weight));
    }
    case 'shadow': {
      const name = one('model name');
      if (Boolean(flags.off) === (flags.version !== undefined)) {
        throw new UsageError('models shadow needs either --version V or --off');
      }
      return changed(await store.shadow(name, flags.off ? undefined : flags.version));
    }
    case 'rollback':
      return changed(await store.rollback(one('model name')));
    case 'delete': {
      const name = one('model name');
      const v = version();
      await store.deleteVersion(name, v);
      if (flags.json) json(io, { name, version: v, deleted: true });
      else io.out.write(`deleted ${name} version ${v}\n`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command 'models ${command ?? ''}'`);
  }
}

async function push(file: string, flags: ModelFlags, target: Target, store: AliasStore, io: Io) {
  if (!flags.name) throw new UsageError('models push needs --name NAME');
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  const list = (text: string | undefined) =>
    text
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  // Progress goes to stderr, so `--json` output stays one JSON document.
  const manifest = await publishModel(target.s3, target.bucket, {
    name: flags.name,
    bytes,
    description: flags.description,
    labels: list(flags.labels),
    features: list(flags.features),
    onProgress: (loaded, total) => io.err.write(`\ruploading ${progressBar(loaded, total)}`),
  });
  io.err.write('\n');
  const alias = flags['set-alias'];
  if (alias) await store.promote(manifest.name, manifest.version, alias);
  if (flags.json) {
    json(io, alias ? { ...manifest, alias } : manifest);
    return 0;
  }
  io.out.write(
    `published ${manifest.name} version ${manifest.version} to ${target.where}\n` +
      `  sha256  ${manifest.sha256}\n  size    ${manifest.sizeBytes} bytes\n` +
      `  inputs  ${tensors(manifest.inputs)}\n  outputs ${tensors(manifest.outputs)}\n` +
      (manifest.classifier?.rewritten === 'ZipMap'
        ? `  zipmap  rewritten: ${manifest.classifier.probabilities} is now an [N, ${manifest.labels?.length}] FP32 tensor; labels ${manifest.labels?.join(', ')} (${manifest.classifier.labelKind}) from the ZipMap\n`
        : '') +
      (alias ? `  alias   ${alias} -> ${manifest.version}\n` : ''),
  );
  return 0;
}

async function list(registry: Registry, store: AliasStore, asJson: boolean, target: Target, io: Io) {
  const entries = await registry.listModels();
  const rows = await Promise.all(entries.map(async (m) => ({ ...m, aliases: await store.aliases(m.name) })));
  return listing(
    io,
    asJson,
    rows,
    `no models in ${target.where}`,
    ['MODEL', 'VERSIONS', 'PRODUCTION'],
    (m) => [
      m.name,
      m.versions.join(', '),
      m.aliases[PRODUCTION] ? routing(m.aliases[PRODUCTION]) : `latest (${m.versions.at(-1)})`,
    ],
  );
}

async function describe(name: string, registry: Registry, store: AliasStore, asJson: boolean, io: Io) {
  const versions = await registry.listVersions(name);
  const [manifests, aliases] = await Promise.all([
    Promise.all(versions.map((v) => registry.getManifest(name, v))),
    store.aliases(name),
  ]);
  if (asJson) {
    json(io, { name, aliases, versions: manifests });
    return 0;
  }
  const latest = manifests[manifests.length - 1] as Manifest;
  io.out.write(`model    ${name}\n`);
  if (latest.description) io.out.write(`about    ${latest.description}\n`);
  io.out.write(`inputs   ${tensors(latest.inputs)}\noutputs  ${tensors(latest.outputs)}\n`);
  if (latest.labels) io.out.write(`labels   ${latest.labels.join(', ')}\n`);
  if (latest.features) io.out.write(`features ${latest.features.join(', ')}\n`);
  io.out.write('\naliases\n');
  const aliasRows = Object.entries(aliases).map(([alias, a]) => [alias, routing(a)]);
  if (!aliases[PRODUCTION]) aliasRows.unshift([PRODUCTION, `latest (${latest.version}), no alias`]);
  io.out.write(indent(table(['ALIAS', 'ROUTES'], aliasRows)));
  io.out.write('\nversions\n');
  io.out.write(
    indent(
      table(
        ['VERSION', 'CREATED', 'SIZE', 'SHA256'],
        manifests.map((m) => [m.version, m.createdAt, bytes(m.sizeBytes), m.sha256.slice(0, 12)]),
      ),
    ),
  );
  return 0;
}

async function history(name: string, store: AliasStore, asJson: boolean, io: Io) {
  const entries = await store.history(name);
  return listing(
    io,
    asJson,
    entries,
    `no alias changes recorded for ${name}`,
    ['CHANGED', 'BY', 'PRODUCTION BEFORE'],
    (e) => [e.at, e.action, e.aliases[PRODUCTION] ? routing(e.aliases[PRODUCTION]) : 'latest version'],
  );
}

/** Rows as JSON when asked, else a table of them, or `empty` when there are none. */
function listing<T>(
  io: Io,
  asJson: boolean,
  rows: T[],
  empty: string,
  headers: string[],
  cells: (row: T) => string[],
) {
  if (asJson) json(io, rows);
  else io.out.write(rows.length === 0 ? `${empty}\n` : table(headers, rows.map(cells)));
  return 0;
}

function reportChange(change: AliasChange, name: string, asJson: boolean, io: Io): number {
  if (asJson) {
    json(io, { name, ...change });
    return 0;
  }
  const production = (aliases: AliasChange['before']) =>
    aliases[PRODUCTION] ? routing(aliases[PRODUCTION]) : 'latest version';
  io.out.write(
    `${name}: ${change.action}\n  before  ${production(change.before)}\n  now     ${production(change.after)}\n`,
  );
  for (const [alias, a] of Object.entries(change.after)) {
    if (alias !== PRODUCTION) io.out.write(`  ${alias.padEnd(7)} ${routing(a)}\n`);
  }
  return 0;
}

/** `3 (90%), 4 (10%), shadow 5`. */
function routing(alias: Alias): string {
  const routes =
    alias.routes.length === 1
      ? `${alias.routes[0]?.version}`
      : alias.routes.map((r) => `${r.version} (${r.weight}%)`).join(', ');
  return alias.shadow ? `${routes}, shadow ${alias.shadow}` : routes;
}

function tensors(list: Manifest['inputs']): string {
  return list.map((t) => `${t.name} ${t.datatype} [${t.shape}]`).join(', ');
}

function bytes(n: number): string {
  return n < 1024
    ? `${n} B`
    : n < 2 ** 20
      ? `${(n / 1024).toFixed(1)} KiB`
      : `${(n / 2 ** 20).toFixed(1)} MiB`;
}

function indent(text: string): string {
  return text.replace(/^/gm, '  ').replace(/ +$/gm, '');
}
