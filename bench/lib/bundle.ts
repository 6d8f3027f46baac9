/**
 * Bench servers bundled by esbuild as the stack bundles the functions, and started in plain node
 * (not through tsx's loader): the api server, and the whole local topology.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { API_NODE_OPTIONS, FUNCTION_BUNDLING, functionNodeOptions } from '../../infra/function-env.ts';
import { ROOT, startChild } from './process.ts';

/** What the api server (bench/servers/api.ts) prints when ready. */
export interface ApiServer {
  url: string;
  apiKey: string;
  pid: number;
  handlerUs: { p50: number; p99: number };
  sessionRunUs: { p50: number; p99: number };
  /** The same for iris-svm (an SVMClassifier): the api handler and session.run alone. */
  svm: { handlerUs: { p50: number; p99: number }; sessionRunUs: { p50: number; p99: number } };
}

/**
 * An entry bundled as esbuild bundles the functions for Lambda (the options of
 * NodeFunction, with the source map when minified), onnxruntime-node external;
 * written under this checkout's .cache/bench, where node resolves packages from
 * its node_modules (and where another checkout sharing node_modules does not overwrite it).
 */
export async function bundle(
  entry: string,
  name: string,
  minify = true,
  options: { packages?: 'external' } = {},
): Promise<string> {
  const dir = join(ROOT, '.cache', 'bench');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, name);
  await build({
    entryPoints: [`${ROOT}${entry}`],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: FUNCTION_BUNDLING.target,
    minify,
    ...(minify && {
      sourcemap: FUNCTION_BUNDLING.sourcemap,
      sourcesContent: FUNCTION_BUNDLING.sourcesContent,
    }),
    // No keepNames: its __name() calls on every closure made would show in profiles as cost.
    mainFields: [...FUNCTION_BUNDLING.mainFields],
    alias: FUNCTION_BUNDLING.alias,
    absWorkingDir: ROOT,
    // The stack's banner, its import renamed: the topology bundles console/build.ts, which imports createRequire itself.
    banner: {
      js: "import { createRequire as bannerRequire } from 'module'; const require = bannerRequire(import.meta.url);",
    },
    external: ['onnxruntime-node'],
    logLevel: 'silent',
    ...(options.packages && { packages: options.packages, plugins: [sourceUrls] }),
  });
  return outfile;
}

/** Each module's `import.meta.url` stays its source file's: the local topology finds models and scripts by it. */
const sourceUrls: Plugin = {
  name: 'source-urls',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replaceAll(
        'import.meta.url',
        JSON.stringify(pathToFileURL(args.path).href),
      ),
      loader: 'ts',
    }));
  },
};

/**
 * The api server bundled and run as deployed (the api function's V8 flags),
 * after timing `handlerCalls` in-process calls.
 */
export async function startApiServer(s3: { url: string; bucket: string }, handlerCalls: number) {
  const server = await bundle('bench/servers/api.ts', 'api-server.mjs');
  return startChild<ApiServer>(server, [s3.url, s3.bucket], {
    MODELGATE_BENCH_HANDLER_CALLS: String(handlerCalls),
    NODE_OPTIONS: functionNodeOptions(API_NODE_OPTIONS),
  });
}

/**
 * The whole local topology as `npm start` runs it (bench/servers/topology.ts),
 * its code bundled as the functions are deployed and run by plain node, not
 * through tsx's loader (which resolves every `require` the SDK makes per
 * streamed call); packages load from node_modules.
 */
export async function startTopology<T>(env: NodeJS.ProcessEnv = {}) {
  const server = await bundle('bench/servers/topology.ts', 'topology.mjs', false, { packages: 'external' });
  return startChild<T>(server, [], env);
}
