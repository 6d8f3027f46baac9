/** The read side of the S3 model registry: model lists, versions, aliases and manifests, cached with a TTL. */
import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { ModelIntegrityError, NotFoundError } from '../errors.ts';
import { isMissingKey, rethrowS3 } from '../s3.ts';
import { TtlCache } from './cache.ts';
import { canaryPick, type PickOptions } from './canary.ts';
import {
  type Aliases,
  AliasesSchema,
  checkModelName,
  checkModelVersion,
  keys,
  type Manifest,
  ManifestSchema,
  MODEL_NAME,
  PRODUCTION,
} from './manifest.ts';

export interface RegistryOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Time to live of cached aliases, version lists and manifests. */
  readonly ttlSeconds: number;
  readonly now?: () => number;
}

export interface ModelEntry {
  readonly name: string;
  readonly versions: string[];
}

export interface ResolveOptions extends PickOptions {
  /** An explicit version; wins over aliases. */
  readonly version?: string | undefined;
}

/**
 * Read side of the S3 model registry:
 * `models/<name>/<version>/{model.onnx,manifest.json}` and
 * `models/<name>/aliases.json`. S3 is the source of truth; answers are cached
 * for `ttlSeconds` so alias changes take effect without a redeploy.
 */
export class Registry {
  readonly bucket: string;
  private readonly s3: S3Client;
  private readonly models: TtlCache<ModelEntry[]>;
  private readonly versions: TtlCache<string[]>;
  private readonly aliases: TtlCache<Aliases>;
  private readonly manifests: TtlCache<Manifest>;
  /** Whether each model's last listing had an aliases file. */
  private readonly aliasFiles = new Map<string, boolean>();

  constructor(options: RegistryOptions) {
    this.s3 = options.s3;
    this.bucket = options.bucket;
    const ttl = options.ttlSeconds * 1000;
    this.models = new TtlCache(ttl, options.now);
    this.versions = new TtlCache(ttl, options.now);
    this.aliases = new TtlCache(ttl, options.now);
    this.manifests = new TtlCache(ttl, options.now);
  }

  /**
   * Every model with at least one published version, by name, with its versions ascending. A folder
   * whose name is not a model name (put in the bucket by hand) is left out: every route refuses that
   * name, so listing it would offer a model nothing serves.
   */
  listModels(): Promise<ModelEntry[]> {
    return this.models.get('', async () => {
      const found = new Map<string, string[]>();
      for await (const key of this.listKeys(keys.root)) {
        const match = /^models\/([^/]+)\/([1-9][0-9]*)\/manifest\.json$/.exec(key);
        if (match?.[1] && match[2] && MODEL_NAME.test(match[1]))
          found.set(match[1], [...(found.get(match[1]) ?? []), match[2]]);
      }
      return [...found.keys()].sort().map((name) => ({ name, versions: byNumber(found.get(name) ?? []) }));
    });
  }

  /**
   * Published versions of a model, ascending. A version counts once its
   * manifest exists, which publishing writes last.
   *
   * @throws NotFoundError when the model has none.
   */
  listVersions(name: string): Promise<string[]> {
    checkModelName(name);
    return this.versions.get(name, async () => {
      const versions: string[] = [];
      const aliasFile = keys.aliases(name);
      let aliased = false;
      for await (const key of this.listKeys(keys.model(name))) {
        const match = /^models\/[^/]+\/([1-9][0-9]*)\/manifest\.json$/.exec(key);
        if (match?.[1]) versions.push(match[1]);
        else if (key === aliasFile) aliased = true;
      }
      this.aliasFiles.set(name, aliased);
      if (versions.length === 0) throw new NotFoundError(`model '${name}' not found`);
      return byNumber(versions);
    });
  }

  /**
   * The model's aliases; `{}` when it has no aliases file. The file is read only when the model's
   * listing has one: reading a missing file is S3's 403 or 404, an error the SDK throws and tracing
   * records with its stack, which Node maps through the bundle's source map (tens of ms on a cold
   * start, and a fault on every trace).
   *
   * @throws NotFoundError when the model has no version.
   */
  getAliases(name: string): Promise<Aliases> {
    checkModelName(name);
    return this.aliases.get(name, async () => {
      if (this.aliasFiles.get(name) !== true) {
        await this.listVersions(name);
        if (!this.aliasFiles.get(name)) return {};
      }
      const text = await this.getText(keys.aliases(name), `aliases of model '${name}'`);
      if (text === undefined) return {};
      const parsed = AliasesSchema.safeParse(parseJson(text));
      if (!parsed.success) {
        throw new ModelIntegrityError(
          `${keys.aliases(name)} is malformed: ${parsed.error.issues[0]?.message ?? 'invalid'}; fix or rewrite the aliases`,
        );
      }
      return parsed.data;
    });
  }

  /** @throws NotFoundError when the version does not exist. */
  getManifest(name: string, version: string): Promise<Manifest> {
    checkModelName(name);
    checkModelVersion(version);
    return this.manifests.get(`${name}/${version}`, async () => {
      const text = await this.getText(
        keys.manifest(name, version),
        `manifest of '${name}' version ${version}`,
      );
      if (text === undefined) {
        // Tell an unknown model apart from an unknown version.
        await this.listVersions(name);
        throw new NotFoundError(`model '${name}' has no version ${version}`);
      }
      const parsed = ManifestSchema.safeParse(parseJson(text));
      if (!parsed.success || parsed.data.name !== name || parsed.data.version !== version) {
        throw new ModelIntegrityError(
          `${keys.manifest(name, version)} is malformed or names another model; republish this version`,
        );
      }
      return parsed.data;
    });
  }

  /**
   * The manifest a request is served by: the explicit version, else alias
   * `production` (weighted routes), else the highest version.
   */
  async resolve(name: string, options: ResolveOptions = {}): Promise<Manifest> {
    return (await this.route(name, options)).manifest;
  }

  /**
   * Like {@link resolve}, with the version production mirrors requests to
   * (`shadow`), when there is one and the request did not pin a version.
   */
  async route(name: string, options: ResolveOptions = {}): Promise<{ manifest: Manifest; shadow?: string }> {
    checkModelName(name);
    if (options.version !== undefined) {
      return { manifest: await this.getManifest(name, checkModelVersion(options.version)) };
    }
    // Warm: what is in the caches is taken without waiting on a promise per read.
    const aliases = this.aliases.peek(name);
    if (aliases !== undefined) {
      const production = aliases[PRODUCTION];
      const pick = production ? canaryPick(production, options) : undefined;
      const version = pick?.version ?? (this.versions.peek(name) ?? (await this.listVersions(name))).at(-1);
      const manifest =
        this.manifests.peek(`${name}/${version}`) ?? (await this.getManifest(name, version as string));
      return pick?.shadow !== undefined ? { manifest, shadow: pick.shadow } : { manifest };
    }
    // Cold: a model known to have an aliases file has both read at once (one round trip).
    const versionList = this.listVersions(name);
    versionList.catch(() => {});
    const production = (await this.getAliases(name))[PRODUCTION];
    if (production) {
      const pick = canaryPick(production, options);
      const manifest = await this.getManifest(name, pick.version);
      return pick.shadow !== undefined ? { manifest, shadow: pick.shadow } : { manifest };
    }
    const versions = await versionList;
    return { manifest: await this.getManifest(name, versions[versions.length - 1] as string) };
  }

  /** Forgets everything cached about one model, or about all. */
  invalidate(name?: string): void {
    this.models.clear();
    if (name === undefined) {
      this.versions.clear();
      this.aliases.clear();
      this.aliasFiles.clear();
      this.manifests.clear();
      return;
    }
    this.versions.delete(name);
    this.aliases.delete(name);
    this.aliasFiles.delete(name);
  }

  private async *listKeys(prefix: string): AsyncGenerator<string> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.s3.send(
          new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
        );
      } catch (error) {
        rethrowS3(error, `the model list under ${prefix}`);
      }
      for (const object of page.Contents ?? []) if (object.Key) yield object.Key;
      token = page.NextContinuationToken;
    } while (token);
  }

  private async getText(key: string, what: string): Promise<string | undefined> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await object.Body?.transformToString()) ?? '';
    } catch (error) {
      if (await isMissingKey({ s3: this.s3, bucket: this.bucket }, key, error)) return undefined;
      rethrowS3(error, what);
    }
  }
}

function byNumber(versions: string[]): string[] {
  return versions.sort((a, b) => Number(a) - Number(b));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
