/**
 * Loads one bundled function asset in a child Node.js process with the
 * environment the template gives the function, and says whether its handler
 * is an exported function: what Lambda's runtime does at init, minus Lambda.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** What a function sees at init besides the template's variables: Lambda's own. */
function lambdaVariables(functionName: string, asset: string, runtime: string): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
    LAMBDA_TASK_ROOT: asset,
    TZ: ':UTC',
    PATH: process.env.PATH ?? '/usr/bin:/bin',
  };
}

/**
 * The child: redirects `onnxruntime-node` to the project's own copy (the asset
 * carries linux/arm64 binaries only; the asset-platform check covers those),
 * installs the `awslambda` global of Lambda's Node.js runtime, imports the
 * asset and prints what the handler export is.
 */
function probeScript(file: string, exportName: string): string {
  const ort = pathToFileURL(createRequire(import.meta.url).resolve('onnxruntime-node')).href;
  const hooks = `export async function resolve(specifier, context, next) {
    return next(specifier === 'onnxruntime-node' ? ${JSON.stringify(ort)} : specifier, context);
  }`;
  return `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));
    globalThis.awslambda = {
      streamifyResponse: (handler) => handler,
      HttpResponseStream: { from: (stream) => stream },
    };
    const module = await import(${JSON.stringify(pathToFileURL(file).href)});
    process.stdout.write('\\n@@probe ' + JSON.stringify({ type: typeof module[${JSON.stringify(exportName)}] }) + '\\n');
    process.exit(0);
  `;
}

export type ProbeResult = { readonly type: string } | { readonly error: string };

/** Imports `asset/<file>` as Lambda would and reports the type of `exportName`, or why it failed. */
export function probeHandler(options: {
  asset: string;
  file: string;
  exportName: string;
  functionName: string;
  runtime: string;
  environment: Record<string, string>;
}): ProbeResult {
  const child = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', probeScript(join(options.asset, options.file), options.exportName)],
    {
      cwd: options.asset,
      env: {
        ...lambdaVariables(options.functionName, options.asset, options.runtime),
        ...options.environment,
      },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  const line = child.stdout?.split('\n').find((l) => l.startsWith('@@probe '));
  if (line) return JSON.parse(line.slice('@@probe '.length)) as ProbeResult;
  const stderr = (child.stderr ?? '').trim();
  // The error's own line: `Error: MODELGATE_MODEL_BUCKET is not set: ...`.
  const reason = /^\w*Error: .*$/m.exec(stderr)?.[0] ?? stderr.split('\n').slice(-3).join(' ');
  return { error: child.error ? child.error.message : reason || `exited ${child.status}` };
}
