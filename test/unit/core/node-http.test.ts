/**
 * The functions' bundles take `http` and `node:http` through functions/core/node-http.cjs (esbuild alias
 * in FUNCTION_BUNDLING): the same module, with default and named imports, and no ESM import of it left.
 */

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { FUNCTION_BUNDLING } from '../../../infra/function-env.ts';

const root = new URL('../../../', import.meta.url).pathname;

describe('node:http in the functions bundles', () => {
  it('is the builtin module, default and named imports alike, with no ESM import of it in the bundle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelgate-node-http-'));
    writeFileSync(
      join(dir, 'entry.mjs'),
      [
        "import plain from 'http';",
        "import prefixed, { request, STATUS_CODES } from 'node:http';",
        'export const seen = { plain, prefixed, request, notFound: STATUS_CODES[404] };',
      ].join('\n'),
    );
    const outfile = join(dir, 'out.mjs');
    await build({
      entryPoints: [join(dir, 'entry.mjs')],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      alias: FUNCTION_BUNDLING.alias,
      absWorkingDir: root,
      logLevel: 'silent',
    });
    expect(readFileSync(outfile, 'utf8')).not.toMatch(/from\s*["'](node:)?http["']/);
    const { seen } = await import(pathToFileURL(outfile).href);
    const builtin = process.getBuiltinModule('node:http');
    expect(seen.plain).toBe(builtin);
    expect(seen.prefixed).toBe(builtin);
    expect(seen.request).toBe(http.request);
    expect(seen.notFound).toBe('Not Found');
  });
});
