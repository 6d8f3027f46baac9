/**
 * How the project installs: onnxruntime-node's install script (a CUDA download
 * from a host outside the npm registry) is denied through package.json, not
 * through an npm config key npm does not know.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
const npmVersion = execFileSync('npm', ['--version'], { encoding: 'utf8' }).trim();

describe('installing the project', () => {
  it('denies onnxruntime-node its install script in allowScripts, which npm 11 honours and npm 12 requires', () => {
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
    // The CPU binaries the project needs ship inside the package: nothing to download.
    const binaries = `${root}node_modules/onnxruntime-node/bin/napi-v6`;
    for (const platform of ['linux/x64', 'linux/arm64']) {
      expect(readFileSync(`${binaries}/${platform}/onnxruntime_binding.node`).subarray(0, 4)).toEqual(
        Buffer.from([0x7f, 0x45, 0x4c, 0x46]),
      );
    }
  });

  it(`prints no "Unknown project config" warning on npm commands (npm ${npmVersion})`, () => {
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_config_')),
    );
    const run = spawnSync('npm', ['config', 'get', 'save-exact'], { cwd: root, env, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe('true');
    expect(run.stderr).not.toMatch(/Unknown (project|env|user) config/);
    expect(readFileSync(`${root}.npmrc`, 'utf8')).not.toMatch(/onnxruntime/);
  });
});
