/** The write side of a model's aliases: promote, canary, shadow, roll back, history, deleting versions. */
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod/mini';
import { BadRequestError, ConflictError } from '../../functions/core/errors.ts';
import {
  ALIAS_NAME,
  type Alias,
  type Aliases,
  AliasesSchema,
  checkModelName,
  checkModelVersion,
  keys,
  PRODUCTION,
} from '../../functions/core/registry/manifest.ts';
import { Registry } from '../../functions/core/registry/store.ts';
import { readVersionedJson, type Versioned, writeIfUnchanged } from './versioned-json.ts';

/** How many earlier states of `aliases.json` the history keeps. */
export const HISTORY_LIMIT = 20;
/** Attempts at a conditional write before giving up on a busy aliases file. */
const WRITE_ATTEMPTS = 10;

const HistoryEntrySchema = z.object({
  /** When the state below was replaced. */
  at: z.string(),
  /** What replaced it, e.g. `canary 3 at 10%`. */
  action: z.string(),
  /** The aliases as they were before `action`. */
  aliases: AliasesSchema,
});
const HistorySchema = z.array(HistoryEntrySchema);
export type AliasHistoryEntry = z.infer<typeof HistoryEntrySchema>;

export interface AliasChange {
  readonly action: string;
  readonly before: Aliases;
  readonly after: Aliases;
}

/**
 * Write side of a model's aliases: promote, canary, shadow, roll back, and
 * delete versions no alias routes to. Every write of `aliases.json` is
 * conditional on the ETag it was computed from (`If-Match`, or
 * `If-None-Match: *` for a new file), so two concurrent promotions never
 * lose one another: the loser rereads and applies its change to the
 * winner's state. The state each change replaced is appended to
 * `aliases.history.json` (the last {@link HISTORY_LIMIT}), which `rollback`
 * walks back.
 *
 * @example
 * const store = new AliasStore(s3, 'my-bucket');
 * await store.canary('iris', '4', 10); // 90 % to the current version, 10 % to 4
 * await store.promote('iris', '4');    // 100 % to 4
 * await store.rollback('iris');        // back to the 90/10 split
 */
export class AliasStore {
  private readonly registry: Registry;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.registry = new Registry({ s3, bucket, ttlSeconds: 0 });
  }

  /** The model's aliases (`{}` when it has none). */
  async aliases(name: string): Promise<Aliases> {
    return (await this.readAliases(checkModelName(name))).value;
  }

  /** Earlier states, newest last. */
  async history(name: string): Promise<AliasHistoryEntry[]> {
    return (await this.readHistory(checkModelName(name))).value;
  }

  /** Points `alias` (default `production`) at one version with all the traffic; keeps its shadow unless that is the version. */
  async promote(name: string, version: string, alias = PRODUCTION): Promise<AliasChange> {
    checkAliasName(alias);
    return this.change(name, `promote ${version} to ${alias}`, [version], (aliases) => {
      const shadow = aliases[alias]?.shadow;
      return {
        ...aliases,
        [alias]: { routes: [{ version, weight: 100 }], ...(shadow && shadow !== version && { shadow }) },
      };
    });
  }

  /**
   * Sends `weight` % of production traffic to `version` and the rest to the
   * version production serves most (the latest version when there is no
   * production alias yet). Weight 0 removes the canary; 100 promotes it.
   */
  async canary(name: string, version: string, weight: number): Promise<AliasChange> {
    if (!Number.isFinite(weight) || weight < 0 || weight > 100) {
      throw new BadRequestError(
        `canary weight ${weight} is out of range: expected a percentage from 0 to 100`,
      );
    }
    return this.change(name, `canary ${version} at ${weight}%`, [version], async (aliases) => {
      const current = aliases[PRODUCTION];
      const base = current ? primary(current, version) : await this.latestOtherThan(name, version);
      if (base === undefined) {
        throw new ConflictError(
          `model '${name}' has no other version serving traffic to canary ${version} against: promote one first`,
        );
      }
      const routes =
        weight === 100
          ? [{ version, weight: 100 }]
          : weight === 0
            ? [{ version: base, weight: 100 }]
            : [
                { version: base, weight: 100 - weight },
                { version, weight },
              ];
      return { ...aliases, [PRODUCTION]: { routes, ...(current?.shadow && { shadow: current.shadow }) } };
    });
  }

  /**
   * Mirrors production traffic to `version` (its answers are compared, never
   * returned); `undefined` stops shadowing.
   */
  async shadow(name: string, version: string | undefined): Promise<AliasChange> {
    const action = version === undefined ? 'stop shadowing' : `shadow ${version}`;
    return this.change(name, action, version === undefined ? [] : [version], async (aliases) => {
      const current = aliases[PRODUCTION] ?? {
        routes: [{ version: await this.latest(name), weight: 100 }],
      };
      const { shadow: _previous, ...rest } = current;
      return { ...aliases, [PRODUCTION]: version === undefined ? rest : { ...rest, shadow: version } };
    });
  }

  /**
   * Restores production to the routing it had before its last change, and
   * forgets that change, so a second rollback goes one step further back.
   */
  async rollback(name: string): Promise<AliasChange> {
    checkModelName(name);
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const [aliases, history] = await Promise.all([this.readAliases(name), this.readHistory(name)]);
      const current = JSON.stringify(aliases.value[PRODUCTION] ?? null);
      const index = history.value.findLastIndex(
        (entry) => JSON.stringify(entry.aliases[PRODUCTION] ?? null) !== current,
      );
      const entry = history.value[index];
      if (!entry) {
        throw new ConflictError(`model '${name}' has no earlier production routing to roll back to`);
      }
      const { [PRODUCTION]: _replaced, ...others } = aliases.value;
      const restored = entry.aliases[PRODUCTION];
      const after: Aliases = restored ? { ...others, [PRODUCTION]: restored } : others;
      if (!(await writeIfUnchanged(this.s3, this.bucket, keys.aliases(name), after, aliases.etag))) continue;
      this.registry.invalidate(name);
      await this.updateHistory(name, (entries) =>
        entries.slice(0, entries.length - (history.value.length - index)),
      );
      return { action: `roll back ${entry.action}`, before: aliases.value, after };
    }
    throw busy(name);
  }

  /**
   * Deletes one version. Refused while an alias routes or shadows to it, or
   * while it serves traffic as the latest version of a model without a
   * production alias.
   */
  async deleteVersion(name: string, version: string): Promise<void> {
    checkModelName(name);
    checkModelVersion(version);
    await this.registry.getManifest(name, version);
    const aliases = (await this.readAliases(name)).value;
    const users = Object.entries(aliases)
      .filter(([, alias]) => alias.shadow === version || alias.routes.some((r) => r.version === version))
      .map(([alias]) => alias);
    if (users.length > 0) {
      throw new ConflictError(
        `version ${version} of '${name}' is in use by alias ${users.join(', ')}: point ${users.length > 1 ? 'them' : 'it'} elsewhere first`,
      );
    }
    if (!aliases[PRODUCTION] && (await this.latest(name)) === version) {
      throw new ConflictError(
        `version ${version} is the latest version of '${name}' and serves its traffic (no production alias): promote another version first`,
      );
    }
    // The manifest makes a version visible, so it goes first.
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: keys.manifest(name, version) }));
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: keys.modelFile(name, version) }));
    this.registry.invalidate(name);
  }

  /** Applies `update` to the current aliases with a conditional write, retrying on a concurrent change. */
  private async change(
    name: string,
    action: string,
    versions: readonly string[],
    update: (aliases: Aliases) => Aliases | Promise<Aliases>,
  ): Promise<AliasChange> {
    checkModelName(name);
    // Every version routed to must exist; NotFoundError names the model or the version.
    for (const version of versions) await this.registry.getManifest(name, checkModelVersion(version));
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const current = await this.readAliases(name);
      const after = AliasesSchema.parse(await update(current.value));
      if (JSON.stringify(after) === JSON.stringify(current.value)) {
        return { action, before: current.value, after };
      }
      if (!(await writeIfUnchanged(this.s3, this.bucket, keys.aliases(name), after, current.etag))) {
        await jitter(attempt);
        continue;
      }
      this.registry.invalidate(name);
      const entry = { at: this.now().toISOString(), action, aliases: current.value };
      await this.updateHistory(name, (entries) => [...entries, entry].slice(-HISTORY_LIMIT));
      return { action, before: current.value, after };
    }
    throw busy(name);
  }

  private async updateHistory(
    name: string,
    update: (entries: AliasHistoryEntry[]) => AliasHistoryEntry[],
  ): Promise<void> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const history = await this.readHistory(name);
      if (
        await writeIfUnchanged(
          this.s3,
          this.bucket,
          keys.aliasHistory(name),
          update(history.value),
          history.etag,
        )
      )
        return;
      await jitter(attempt);
    }
    throw busy(name);
  }

  private async readAliases(name: string): Promise<Versioned<Aliases>> {
    return readVersionedJson(this.s3, this.bucket, keys.aliases(name), {}, (value) =>
      AliasesSchema.safeParse(value),
    );
  }

  private async readHistory(name: string): Promise<Versioned<AliasHistoryEntry[]>> {
    return readVersionedJson(this.s3, this.bucket, keys.aliasHistory(name), [], (value) =>
      HistorySchema.safeParse(value),
    );
  }

  private async latest(name: string): Promise<string> {
    const versions = await this.registry.listVersions(name);
    return versions[versions.length - 1] as string;
  }

  private async latestOtherThan(name: string, version: string): Promise<string | undefined> {
    return (await this.registry.listVersions(name)).filter((v) => v !== version).pop();
  }
}

/** The version an alias sends most traffic to, other than `except`. */
function primary(alias: Alias, except: string): string | undefined {
  return [...alias.routes]
    .filter((r) => r.version !== except)
    .sort((a, b) => b.weight - a.weight || Number(b.version) - Number(a.version))[0]?.version;
}

export function checkAliasName(alias: string): string {
  if (!ALIAS_NAME.test(alias)) {
    throw new BadRequestError(
      `alias name ${JSON.stringify(alias)} is invalid: expected 1-63 characters of a-z, 0-9, '.', '_' or '-'`,
    );
  }
  return alias;
}

function busy(name: string): ConflictError {
  return new ConflictError(
    `the aliases of '${name}' kept changing under ${WRITE_ATTEMPTS} attempts to update them: try again`,
  );
}

function jitter(attempt: number): Promise<void> {
  return new Promise((done) => setTimeout(done, Math.random() * 20 * (attempt + 1)));
}
