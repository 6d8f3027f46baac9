/**
 * Starts one function's execution environment in a process of its own, running the harness
 * (test/arm64/harness.ts): either the deployed asset on linux/arm64 under qemu, or the handler
 * source under tsx as local mode runs it. The test sends it events one at a time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { DeployedFunction } from './assets.ts';
import { CPUINFO, nodeBinary, QEMU, ROOT, SYSROOT } from './prerequisites.ts';
import type { HarnessAnswer } from './protocol.ts';

const HARNESS = join(ROOT, 'test/arm64/harness.ts');
/** Generous: under emulation a first answer (model download, session) takes seconds. */
const INVOKE_TIMEOUT_MS = 90_000;

export interface FunctionProcess {
  /** Import time and Node.js version the harness reported once the module loaded. */
  readonly init: { readonly importMs: number; readonly node: string };
  invoke(event: unknown): Promise<HarnessAnswer>;
  /** What the function logged (stdout and stderr), for failure messages. */
  output(): string;
  close(): Promise<void>;
}

/** The module file Lambda loads for `Handler` (`index.handler` → index.js, .mjs or .cjs). */
export function handlerModule(fn: DeployedFunction): { file: string; exportName: string } {
  const dot = fn.handler.lastIndexOf('.');
  const base = fn.handler.slice(0, dot);
  const exportName = fn.handler.slice(dot + 1);
  const file = ['.js', '.mjs', '.cjs'].map((ext) => join(fn.assetDir, base + ext)).find((f) => existsSync(f));
  if (dot < 1 || !file) {
    throw new Error(
      `Handler '${fn.handler}' of ${fn.logicalId}: no ${base}.js, .mjs or .cjs in ${fn.assetDir}`,
    );
  }
  return { file, exportName };
}

/** The variables the Lambda runtime sets, then the function's own. */
export function lambdaEnvironment(
  fn: DeployedFunction,
  taskRoot: string,
  own: Record<string, string>,
): Record<string, string> {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: `ModelGate-${fn.logicalId}`,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/ModelGate-${fn.logicalId}`,
    LAMBDA_TASK_ROOT: taskRoot,
    ...own,
  };
}

/**
 * The deployed asset on linux/arm64: qemu user-mode emulation with the arm64 sysroot, in a
 * private mount namespace where /proc/cpuinfo describes a Neoverse N1 (onnxruntime's cpuinfo
 * reads it and crashes on an x64 one).
 */
export function startArm64(fn: DeployedFunction, env: Record<string, string>): Promise<FunctionProcess> {
  const { file, exportName } = handlerModule(fn);
  const script = 'mount --bind "$0" /proc/cpuinfo && exec "$@"';
  const qemu = [
    QEMU,
    '-cpu',
    'neoverse-n1',
    '-L',
    SYSROOT,
    nodeBinary(fn.nodeMajor),
    HARNESS,
    file,
    exportName,
  ];
  return launch('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, CPUINFO, ...qemu], {
    ...lambdaEnvironment(fn, fn.assetDir, env),
  });
}

/** The handler source on this machine's Node.js under tsx, as local mode and the tests run it. */
export function startSource(fn: DeployedFunction, env: Record<string, string>): Promise<FunctionProcess> {
  return launch(process.execPath, ['--import', 'tsx', HARNESS, fn.source, 'handler'], {
    ...lambdaEnvironment(fn, ROOT, env),
  });
}

async function launch(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<FunctionProcess> {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-32_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const answers = answerLines(child.stdio[3] as Readable);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  // One rejection for the process's end, observed once, raced by every wait.
  const ended = exited.then((code) => {
    throw new Error(`the function process exited (${code}) without answering\n${log}`);
  });
  ended.catch(() => {});
  const next = async (timeoutMs: number): Promise<HarnessAnswer> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms\n${log}`)), timeoutMs);
    });
    try {
      const line = await Promise.race([answers.next(), ended, timeout]);
      if (line.done) throw new Error(`the function process ended without answering\n${log}`);
      return line.value;
    } finally {
      clearTimeout(timer);
    }
  };

  const first = await next(INVOKE_TIMEOUT_MS).catch((error: Error) => {
    child.kill('SIGKILL');
    throw error;
  });
  if (first.error) {
    child.kill('SIGKILL');
    throw new Error(`the handler module did not load: ${first.error.name}: ${first.error.message}\n${log}`);
  }
  let sequence = 0;
  return {
    init: first.result as FunctionProcess['init'],
    async invoke(event) {
      sequence += 1;
      const id = String(sequence);
      child.stdin?.write(`${JSON.stringify({ id, event })}\n`);
      const answer = await next(INVOKE_TIMEOUT_MS);
      if (answer.id !== id) throw new Error(`answer ${answer.id} came for request ${id}`);
      return answer;
    },
    output: () => log,
    close: () => stop(child, exited),
  };
}

/** JSON lines from a stream, one answer each. */
async function* answerLines(stream: Readable): AsyncGenerator<HarnessAnswer> {
  let buffered = '';
  for await (const chunk of stream) {
    buffered += String(chunk);
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim()) yield JSON.parse(line) as HarnessAnswer;
    }
  }
}

/** Ends stdin (the harness exits when its events are done); kills it if it does not go. */
async function stop(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Writes what both sides of a function logged into `folder` (`<name>.arm64.log`, `<name>.source.log`), if set. */
export function keepLogs(
  folder: string | undefined,
  name: string,
  sides: { readonly arm64: FunctionProcess; readonly source: FunctionProcess },
): void {
  if (!folder) return;
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, `${name}.arm64.log`), sides.arm64.output());
  writeFileSync(join(folder, `${name}.source.log`), sides.source.output());
}
