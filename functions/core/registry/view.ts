/**
 * `GET /v2/models/{model}/registry`: what the console shows of a model, read
 * only: every version's manifest (size, date, tensors, features, labels) and
 * the aliases with production's routing weights and shadow.
 */
import type { Aliases, Manifest } from './manifest.ts';
import { PRODUCTION } from './manifest.ts';
import type { Registry } from './store.ts';

export interface RegistryView {
  readonly name: string;
  readonly production: Aliases[string] | undefined;
  readonly aliases: Aliases;
  readonly versions: Manifest[];
}

export async function registryView(registry: Registry, name: string): Promise<RegistryView> {
  const versions = await registry.listVersions(name);
  const [aliases, manifests] = await Promise.all([
    registry.getAliases(name),
    Promise.all(versions.map((v) => registry.getManifest(name, v))),
  ]);
  return { name, production: aliases[PRODUCTION], aliases, versions: manifests };
}
