/**
 * The functions' environment from the configuration, for the stack and local mode alike: the api function's
 * variables, the variables left to Node.js and Powertools, and the V8 and malloc settings.
 */
import { DEFAULTS, ENV } from '../functions/core/env.ts';
import type { ModelGateConfig } from './config.ts';

/**
 * Environment of the api function, from the platform configuration. The CDK
 * stack and local mode both build it here, so the function sees one contract.
 * The bucket name comes with the bucket's grant (`ModelStore.bindModels`).
 */
export function apiFunctionEnvironment(config: ModelGateConfig): Record<string, string> {
  return {
    [ENV.REGISTRY_TTL_SECONDS]: String(config.api.registryTtlSeconds),
    [ENV.SESSION_CACHE_MB]: String(config.api.sessionCacheMiB),
    [ENV.MAX_ELEMENTS]: String(config.api.maxElements),
    [ENV.CACHE_DIR]: DEFAULTS.cacheDir,
    POWERTOOLS_SERVICE_NAME: 'modelgate-api',
    POWERTOOLS_METRICS_NAMESPACE: 'ModelGate',
  };
}

/**
 * Variables the functions are given that `readEnv` does not read, each with
 * its reader. The template checks (infra/checks/function-assets.ts) refuse any
 * other variable `readEnv` ignores.
 */
export const RUNTIME_VARIABLES: Readonly<Record<string, string>> = {
  NODE_OPTIONS: 'Node.js (source maps, V8 flags)',
  MALLOC_ARENA_MAX: 'glibc malloc (batch functions)',
  POWERTOOLS_SERVICE_NAME: 'Powertools logger and metrics',
  POWERTOOLS_METRICS_NAMESPACE: 'Powertools metrics',
};

/**
 * V8 flags of the api function. Requests are small and short-lived: a 2 MB
 * young generation (V8's default is up to 16 MB) keeps the process about
 * 5 MB smaller after thousands of requests and collects no slower
 * (`npm run bench -- memory`).
 */
export const API_NODE_OPTIONS = ['--max-semi-space-size=2'] as const;

/**
 * Flags every function starts with, before its own (`API_NODE_OPTIONS`, `BATCH_NODE_OPTIONS`):
 * stack traces through the bundle's source map.
 */
export const FUNCTION_NODE_OPTIONS = ['--enable-source-maps'] as const;

/** A function's NODE_OPTIONS as the stack sets it: the common flags, then its own. */
export function functionNodeOptions(own: readonly string[] = []): string {
  return [...FUNCTION_NODE_OPTIONS, ...own].join(' ');
}

/**
 * Builtins the bundles take through a CommonJS module of the project instead of an ESM import
 * (paths from the repository's root, where esbuild runs): Node 24's ESM facade of `node:http` reads
 * its lazy `WebSocket`, `CloseEvent` and `MessageEvent` and so loads undici, about 25 ms of each
 * cold start that nothing uses (`functions/core/node-http.cjs`, `npm run bench -- cold`).
 */
export const BUILTIN_ALIASES = {
  http: './functions/core/node-http.cjs',
  'node:http': './functions/core/node-http.cjs',
} as const;

/**
 * How esbuild bundles every function (NodeFunction) and the bench's copy of
 * it: Lambda's Node.js 24, minified ESM, a source map without the sources'
 * text. Node reads a function's map when the bundle loads (`--enable-source-maps`),
 * and the sources' text was two thirds of it: about 20 ms less CPU at each
 * cold start, the same file:line in stack traces (`npm run bench -- cold`).
 */
export const FUNCTION_BUNDLING = {
  target: 'node24',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  alias: BUILTIN_ALIASES,
} as const;

/**
 * Runtime settings of the batch functions. A job streams a file through
 * short-lived buffers on three kinds of threads (the parser, the model's
 * thread, libuv's I/O threads): two malloc arenas instead of one per thread,
 * and an 8 MB young generation, keep the peak RSS of a 1 M-row job about
 * 40 MB lower at about the same rows per second; a 2 MB young generation (as
 * the api function has) costs a quarter of the throughput
 * (`npm run bench -- batch`).
 */
export const BATCH_NODE_OPTIONS = ['--max-semi-space-size=8'] as const;
export const BATCH_PROCESS_ENVIRONMENT = { MALLOC_ARENA_MAX: '2' } as const;
