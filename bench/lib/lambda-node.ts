/**
 * The Node.js the functions run on Lambda (the major of `Runtime.NODEJS_<major>_X`), for linux/x64, so the
 * cold suite times the bundle on it: the official binary from the npm registry's `node-linux-<arch>` package.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './process.ts';

/** The Node.js a bench child runs on: Lambda's major when it could be had, else this process's, and why. */
export interface BenchNode {
  readonly execPath: string;
  readonly version: string;
  /** Set when this is not Lambda's major: what went wrong. */
  readonly fallback?: string;
}

/** The Node.js major of the functions' Lambda runtime, read where the stack declares it. */
export function lambdaNodeMajor(): number {
  const source = readFileSync(`${ROOT}infra/constructs/node-function.ts`, 'utf8');
  const major = /Runtime\.NODEJS_(\d+)_X/.exec(source)?.[1];
  if (!major) throw new Error('no Runtime.NODEJS_<major>_X in infra/constructs/node-function.ts');
  return Number(major);
}

/**
 * Node.js `<major>` for this machine, fetched on first use with `npm pack node-<platform>-<arch>@<major>`
 * into this checkout's `.cache/bench-node<major>` (ignored by git). This process's Node.js when it already
 * is that major; the same with the reason (printed once) when the binary cannot be had.
 */
export function lambdaNode(major = lambdaNodeMajor()): BenchNode {
  if (Number(process.versions.node.split('.')[0]) === major) {
    return { execPath: process.execPath, version: process.version };
  }
  const binary = join(ROOT, '.cache', `bench-node${major}`, 'bin', 'node');
  try {
    if (!existsSync(binary)) fetchNode(major, binary);
    const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
    if (!version.startsWith(`v${major}.`)) throw new Error(`${binary} is ${version}, not Node.js ${major}`);
    return { execPath: binary, version };
  } catch (error) {
    const why = `Node.js ${major} for ${process.platform}/${process.arch} could not be had (${(error as Error).message.split('\n')[0]})`;
    console.error(`bench: ${why}; timing on this machine's Node.js ${process.version} instead`);
    return { execPath: process.execPath, version: process.version, fallback: why };
  }
}

function fetchNode(major: number, binary: string): void {
  if (process.platform !== 'linux' && process.platform !== 'darwin') {
    throw new Error(`the npm registry has no node-${process.platform}-${process.arch} package`);
  }
  const pkg = `node-${process.platform}-${process.arch}@${major}`;
  console.error(`bench: fetching ${pkg} from the npm registry (first use)…`);
  const tmp = mkdtempSync(join(tmpdir(), 'modelgate-node-'));
  try {
    const tarball = execFileSync('npm', ['pack', '--silent', pkg], { cwd: tmp, encoding: 'utf8' }).trim();
    execFileSync('tar', ['-xzf', tarball, 'package/bin/node'], { cwd: tmp });
    mkdirSync(join(binary, '..'), { recursive: true });
    // Copied beside, then renamed: an interrupted copy never passes for the binary.
    copyFileSync(join(tmp, 'package', 'bin', 'node'), `${binary}.part`);
    chmodSync(`${binary}.part`, 0o755);
    renameSync(`${binary}.part`, binary);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
