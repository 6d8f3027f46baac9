/**
 * A full disk under the model cache (a filled tmpfs; needs root, skipped otherwise) on the local topology:
 * models served from memory with a warning and a metric, no partial file, and cached again once space returns.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';
import { captureOutput } from '../fixtures/output.ts';

/** Mounting a tmpfs needs root (CI runs as root); elsewhere the suite says it was skipped. */
function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(join(tmpdir(), 'mg-tmpfs-probe-'));
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0;
  if (ok) spawnSync('umount', [probe]);
  rmSync(probe, { recursive: true, force: true });
  return ok;
}

/** Writes zeros into `path` until the file system says it is full. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096);
  try {
    for (;;) writeSync(fd, block);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
}

describe.skipIf(!canMount())('a full /tmp, injected with a filled tmpfs under the model cache', () => {
  let output: string[] = [];
  let api: TestTopology;
  let cache: string;

  beforeAll(async () => {
    // Tests run with logging off; this one reads the warning.
    output = captureOutput('WARN');
    api = await startTestTopology();
    cache = join(api.home, 'cache');
    mkdirSync(cache);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', cache]).status).toBe(0);
    fill(join(cache, 'filler'));
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    spawnSync('umount', [cache]);
    await api.close();
  });

  it('serves from memory, logs why, leaves no partial file, and caches again once space returns', async () => {
    const iris = await api.call('/v1/models/iris/predict', { body: { instances: [[6.9, 3.1, 5.4, 2.1]] } });
    expect(iris.status).toBe(200);
    expect(iris.json.predictions).toEqual(['virginica']);
    // The half-written temporary file was removed: only the filler is on the full disk.
    expect(readdirSync(cache)).toEqual(['filler']);
    const logged = output.join('');
    expect(logged).toContain('model disk cache not writable; serving from memory');
    expect(logged).toContain('ENOSPC');
    const metrics = await (await fetch(`${api.apiUrl}/metrics`)).text();
    expect(metrics).toMatch(/^modelgate_disk_cache_errors_total 1$/m);

    rmSync(join(cache, 'filler'));
    const linear = await api.call('/v1/models/linear/predict', { body: { instances: [[1]] } });
    expect(linear.status).toBe(200);
    expect(linear.json.predictions[0]).toBeCloseTo(3.4946, 3);
    expect(readdirSync(cache)).toEqual([expect.stringMatching(/^[0-9a-f]{64}\.onnx$/)]);
  });
});
