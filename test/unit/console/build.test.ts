/** The console's build: every file named by its content's hash, and the console itself within its size budget. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { buildAssets } from '../../../console/build.ts';

const out = mkdtempSync(join(tmpdir(), 'modelgate-console-build-'));
const manifest = buildAssets(out);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('console/build.ts', () => {
  it('names every file by the first 12 hex digits of its SHA-256, so a year of caching is safe', () => {
    expect(Object.keys(manifest).sort()).toEqual([
      'console.css',
      'console.js',
      'docs.css',
      'docs.js',
      'swagger-ui.css',
      'swagger-ui.js',
    ]);
    for (const [name, file] of Object.entries(manifest)) {
      const hash = createHash('sha256')
        .update(readFileSync(join(out, file)))
        .digest('hex')
        .slice(0, 12);
      expect(file).toBe(name.replace(/\.(\w+)$/, `.${hash}.$1`));
    }
  });

  it('keeps the console (script and stylesheet, the docs renderer apart) within 150 KB gzipped', () => {
    const gzipped = ['console.js', 'console.css']
      .map((name) => gzipSync(readFileSync(join(out, manifest[name] as string)), { level: 9 }).length)
      .reduce((a, b) => a + b, 0);
    expect(gzipped).toBeGreaterThan(1024);
    expect(gzipped).toBeLessThanOrEqual(150 * 1024);
  });
});
