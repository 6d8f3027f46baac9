/**
 * The canary pick: which version of a weighted alias (e.g. production at 90 % on
 * version 3, 10 % on version 4) serves a request, sticky per route key, and
 * whether the request is mirrored to a shadow version.
 */
import type { Alias } from './manifest.ts';

export interface PickOptions {
  /** Sticky routing key: the same key always takes the same weighted route. */
  readonly routeKey?: string | undefined;
  /** Source of randomness for weighted routes, in [0, 1). */
  readonly random?: () => number;
}

/** The version that serves a request routed by `alias`, and its shadow unless that is the same version. */
export function canaryPick(alias: Alias, options: PickOptions = {}): { version: string; shadow?: string } {
  const r = options.routeKey !== undefined ? hashToUnit(options.routeKey) : (options.random ?? Math.random)();
  const version = pickRoute(alias, r);
  return alias.shadow !== undefined && alias.shadow !== version
    ? { version, shadow: alias.shadow }
    : { version };
}

/** The version a weighted alias sends a request to, given r in [0, 1). */
export function pickRoute(alias: Alias, r: number): string {
  const total = alias.routes.reduce((sum, route) => sum + route.weight, 0);
  if (total <= 0) return (alias.routes[0] as { version: string }).version;
  let point = r * total;
  for (const route of alias.routes) {
    if (point < route.weight) return route.version;
    point -= route.weight;
  }
  return (alias.routes[alias.routes.length - 1] as { version: string }).version;
}

/**
 * FNV-1a of a string with murmur3's finalizer, mapped to [0, 1). FNV alone
 * leaves keys that differ in their last characters (`customer-41`,
 * `customer-42`) close together in the high bits; the finalizer spreads them
 * over the whole range so weighted splits hold for sequential keys too.
 */
export function hashToUnit(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 2 ** 32;
}
