/**
 * How the project installs: onnxruntime-node's install script (a CUDA download
 * from a host outside the npm registry) is denied through package.json, not
 * through an npm config key npm does not know; CloudFormation Guard needs no download.
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

  it('leaves npm no install script unreviewed: every package that has one is allowed or denied in allowScripts', () => {
    // npm's own reading of the policy against the installed tree (npm ci runs only what it allows).
    const run = spawnSync('npm', ['install-scripts', 'ls', '--json'], { cwd: root, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ allowScripts: [] });
    const withScripts = Object.entries<{ hasInstallScript?: boolean }>(
      JSON.parse(readFileSync(`${root}package-lock.json`, 'utf8')).packages,
    )
      .filter(([path, entry]) => path && entry.hasInstallScript)
      .map(([path]) => path.replace(/^.*node_modules\//, ''));
    expect(withScripts).toContain('onnxruntime-node');
    for (const name of withScripts) expect(pkg.allowScripts, name).toHaveProperty([name]);
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

  it('installs CloudFormation Guard from the npm registry alone: the cfn-guard binary is in the package, no install script', () => {
    const lock = JSON.parse(readFileSync(`${root}package-lock.json`, 'utf8'));
    const entry = lock.packages['node_modules/@cdklabs/cdk-validator-cfnguard'];
    expect(entry).toMatchObject({ version: pkg.devDependencies['@cdklabs/cdk-validator-cfnguard'] });
    expect(entry.integrity).toMatch(/^sha512-/);
    expect(entry.hasInstallScript).toBeUndefined();
    const guard = `${root}node_modules/@cdklabs/cdk-validator-cfnguard/bin/ubuntu`;
    for (const arch of ['x86_64', 'aarch64']) {
      expect(readFileSync(`${guard}/${arch}/cfn-guard`).subarray(0, 4)).toEqual(
        Buffer.from([0x7f, 0x45, 0x4c, 0x46]),
      );
    }
    const version = execFileSync(
      `${guard}/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}/cfn-guard`,
      ['--version'],
      {
        encoding: 'utf8',
      },
    );
    expect(version.trim()).toBe('cfn-guard 3.1.1');
  });
});
