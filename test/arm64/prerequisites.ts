/**
 * What running linux/arm64 assets needs on this x64 machine (test/arm64/setup.sh fetches it),
 * and a plain list of what is missing, so the suite says why it cannot run instead of passing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
export const CACHE = resolve(ROOT, process.env.MODELGATE_ARM64_CACHE || '.cache/arm64');
/** An arm64 /proc/cpuinfo (Neoverse N1, as Graviton2 reports it) for onnxruntime's cpuinfo. */
export const CPUINFO = join(ROOT, 'test/arm64/neoverse-n1.cpuinfo');
export const SYSROOT = join(CACHE, 'sysroot');
export const QEMU = 'qemu-aarch64-static';
const SETUP = 'bash test/arm64/setup.sh (as root)';

/** `MODELGATE_ARM64=required` (set by .ci/run) or `CI`: a missing prerequisite fails the suite. */
export const REQUIRED = process.env.MODELGATE_ARM64 === 'required' || Boolean(process.env.CI);

/** The cached arm64 Node.js binary of a major version. */
export function nodeBinary(major: number): string {
  return join(CACHE, `node-${major}`, 'bin', 'node');
}

/** Reasons the suite cannot run arm64 assets here; empty when it can. */
export function missingPrerequisites(nodeMajor: number): string[] {
  const missing: string[] = [];
  if (process.platform !== 'linux') missing.push(`linux is needed (this is ${process.platform})`);
  if (process.getuid?.() !== 0) {
    missing.push('root is needed to bind-mount an arm64 /proc/cpuinfo in a private mount namespace');
  }
  if (spawnSync(QEMU, ['--version']).status !== 0) {
    missing.push(`${QEMU} is not on PATH (Debian: qemu-user-static; run ${SETUP})`);
  }
  const namespace = spawnSync('unshare', ['-m', '--propagation', 'private', 'true'], { encoding: 'utf8' });
  if (namespace.status !== 0) {
    const why = namespace.error?.message ?? namespace.stderr.trim();
    missing.push(`no private mount namespace for the arm64 /proc/cpuinfo (unshare -m: ${why})`);
  }
  if (!existsSync(join(SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) {
    missing.push(`no arm64 sysroot in ${SYSROOT} (run ${SETUP})`);
  }
  if (!existsSync(nodeBinary(nodeMajor))) {
    missing.push(`no Node.js ${nodeMajor} for linux/arm64 at ${nodeBinary(nodeMajor)} (run ${SETUP})`);
  }
  return missing;
}
