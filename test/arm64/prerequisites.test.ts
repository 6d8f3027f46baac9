/**
 * The arm64 suite never passes silently: what it lacks is named with the command that fetches it,
 * CI makes a lack fail the suite, the cache is ignored by git, and `npm test` and `.ci/run` run it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ROOT } from './prerequisites.ts';

/** The prerequisites module as a fresh process would read it, with `env` set. */
async function prerequisitesWith(env: Record<string, string | undefined>) {
  vi.resetModules();
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  return import('./prerequisites.ts');
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('the arm64 suite’s prerequisites', () => {
  it('names each missing piece with where it was looked for and the command that fetches it', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'modelgate-arm64-cache-'));
    try {
      const { missingPrerequisites } = await prerequisitesWith({ MODELGATE_ARM64_CACHE: empty });
      const missing = missingPrerequisites(24);
      expect(missing).toEqual(
        expect.arrayContaining([
          `no arm64 sysroot in ${join(empty, 'sysroot')} (run bash test/arm64/setup.sh (as root))`,
          `no Node.js 24 for linux/arm64 at ${join(empty, 'node-24/bin/node')} (run bash test/arm64/setup.sh (as root))`,
        ]),
      );
      if (process.getuid?.() !== 0) {
        expect(missing).toContain(
          'root is needed to bind-mount an arm64 /proc/cpuinfo in a private mount namespace',
        );
      }
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('names qemu and the mount namespace when they cannot run', async () => {
    const { missingPrerequisites } = await prerequisitesWith({ PATH: '/nonexistent' });
    expect(missingPrerequisites(24)).toEqual(
      expect.arrayContaining([
        'qemu-aarch64-static is not on PATH (Debian: qemu-user-static; run bash test/arm64/setup.sh (as root))',
        expect.stringMatching(
          /^no private mount namespace for the arm64 \/proc\/cpuinfo \(unshare -m: .+\)$/,
        ),
      ]),
    );
  });

  it('fails instead of skipping under MODELGATE_ARM64=required or CI, and skips with the reason otherwise', async () => {
    expect((await prerequisitesWith({ MODELGATE_ARM64: 'required', CI: undefined })).REQUIRED).toBe(true);
    expect((await prerequisitesWith({ MODELGATE_ARM64: undefined, CI: 'true' })).REQUIRED).toBe(true);
    expect((await prerequisitesWith({ MODELGATE_ARM64: undefined, CI: undefined })).REQUIRED).toBe(false);
  });

  it('caches Node.js and the sysroot under a folder git ignores', () => {
    const cached = ['.cache/arm64/node-24/bin/node', '.cache/arm64/sysroot/lib/ld-linux-aarch64.so.1'];
    const check = spawnSync('git', ['check-ignore', ...cached], { cwd: ROOT, encoding: 'utf8' });
    // git check-ignore prints each path it ignores.
    expect(check.stdout.split('\n').filter(Boolean)).toEqual(cached);
  });

  it('runs in npm test and in .ci/run, where the setup script runs first and a missing piece fails', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.test).toMatch(/vitest run --project arm64/);
    const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    const order = ['bash test/arm64/setup.sh', 'export MODELGATE_ARM64=required', 'npm test'].map((line) =>
      ci.search(new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm')),
    );
    expect(order.every((at) => at >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });
});
