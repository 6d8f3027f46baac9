/**
 * `npm start` run as a user runs it, in a process of its own: the banner's curl commands give real predictions
 * and a chat stream, Ctrl-C stops it, taken ports are refused in one line, data and key survive a restart.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parityFixture, SAMPLE_NAMES } from '../fixtures/models.ts';

const root = new URL('../../', import.meta.url).pathname;
const home = mkdtempSync(join(tmpdir(), 'modelgate-start-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** `npm start`'s entry as a user runs it, on ephemeral ports unless told otherwise. */
function spawnStart(env: Record<string, string> = {}): ChildProcess {
  return spawn(join(root, 'node_modules/.bin/tsx'), ['local/start.ts'], {
    cwd: root,
    env: {
      ...process.env,
      MODELGATE_HOME: home,
      MODELGATE_PORT: '0',
      MODELGATE_S3_PORT: '0',
      MODELGATE_SAGEMAKER_PORT: '0',
      MODELGATE_DYNAMODB_PORT: '0',
      MODELGATE_API_KEY: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `npm start` to its end: exit code, stdout and stderr. */
function runToExit(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnStart(env);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

/** Runs `npm start`'s entry like a user would, until it prints its banner. */
async function start(): Promise<{ child: ChildProcess; output: string }> {
  const child = spawnStart();
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ctrl-C stops it.')) resolve();
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before starting:\n${output}`)));
  });
  return { child, output };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });
}

describe('npm start', () => {
  it('prints the URL, the key and curl commands that return real predictions, and stops cleanly on Ctrl-C', async () => {
    const { child, output } = await start();
    try {
      expect(output).toMatch(/API\s+http:\/\/127\.0\.0\.1:\d+/);
      // The console, the reference and the document it renders, at the addresses printed.
      const page = /console\s+(http:\/\/\S+)/.exec(output)?.[1] as string;
      const consolePage = await fetch(page);
      expect(consolePage.status).toBe(200);
      expect(consolePage.headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
      expect(await consolePage.text()).toContain('<title>ModelGate console</title>');
      const [docs, openapi] =
        /reference\s+(http:\/\/\S+) \(OpenAPI 3\.1: (http:\/\/\S+)\)/.exec(output)?.slice(1) ?? [];
      expect((await fetch(docs as string)).status).toBe(200);
      expect(((await (await fetch(openapi as string)).json()) as { openapi: string }).openapi).toBe('3.1.0');
      expect(output).toMatch(new RegExp(`seeded\\s+${SAMPLE_NAMES.map((n) => `${n} v1`).join(', ')}\n`));
      const commands = output
        .split('\n')
        .join('\n')
        .match(/curl -s [^\n]+\\\n\s+-d '[^']+'/g);
      expect(commands).toHaveLength(4);
      const answers = (commands ?? []).map((c) =>
        JSON.parse(execFileSync('sh', ['-c', c], { encoding: 'utf8' })),
      );
      expect(answers[0]).toMatchObject({
        predictions: ['setosa', 'virginica'],
        model_name: 'iris',
        model_version: '1',
      });
      expect(answers[1].outputs[0].data[0]).toBeCloseTo(3.4946, 3);
      expect(answers[1].outputs[0].data[1]).toBeCloseTo(6.4312, 3);
      expect(answers[2]).toMatchObject({ predictions: ['versicolor'], model_name: 'iris-logistic' });
      // The first row of the diabetes data set, rounded to 3 decimals (no tree split lies in
      // between): scikit-learn's prediction for the unrounded row applies.
      expect(answers[3].model_name).toBe('diabetes');
      expect(answers[3].predictions[0]).toBeCloseTo(parityFixture('diabetes').predictions[0] as number, 3);
      const chat = output.match(/curl -sN [^\n]+\\\n\s+-d '[^']+'/)?.[0];
      expect(chat).toContain('"stream": true');
      const events = execFileSync('sh', ['-c', chat ?? 'false'], { encoding: 'utf8' })
        .trim()
        .split('\n\n');
      expect(JSON.parse((events[0] ?? '').slice(6)).choices[0].delta.role).toBe('assistant');
      expect(events.at(-1)).toBe('data: [DONE]');
    } finally {
      expect(await stop(child)).toBe(0);
    }
  });

  it('refuses a taken port in one line naming it, the variable that moves it, and whether ModelGate holds it', async () => {
    const { child, output } = await start();
    const held = createServer();
    try {
      const apiPort = /API\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1] as string;
      const s3Port = /S3\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1] as string;
      const other = mkdtempSync(join(tmpdir(), 'modelgate-second-'));
      // A second npm start, on the first one's API port.
      const second = await runToExit({ MODELGATE_HOME: other, MODELGATE_PORT: apiPort });
      expect(second.code).toBe(1);
      expect(second.stderr.trim().split('\n')).toEqual([
        `ModelGate cannot start: port ${apiPort} (API) is in use and another ModelGate's API answers there; stop it, or set MODELGATE_PORT to a free port (0 picks one)`,
      ]);
      // The first one's S3 port.
      const third = await runToExit({ MODELGATE_HOME: other, MODELGATE_S3_PORT: s3Port });
      expect(third.code).toBe(1);
      expect(third.stderr.trim()).toMatch(
        new RegExp(
          `^ModelGate cannot start: port ${s3Port} \\(S3\\) is in use and another ModelGate's S3 \\(s3rver\\) answers there; .* set MODELGATE_S3_PORT to a free port`,
        ),
      );
      // A port some other program holds.
      await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
      const port = (held.address() as AddressInfo).port;
      const fourth = await runToExit({ MODELGATE_HOME: other, MODELGATE_S3_PORT: String(port) });
      expect(fourth.code).toBe(1);
      expect(fourth.stderr.trim().split('\n')).toEqual([
        `ModelGate cannot start: port ${port} (S3) is in use and no HTTP server answers there (another program holds it, not ModelGate); stop it, or set MODELGATE_S3_PORT to a free port (0 picks one)`,
      ]);
      rmSync(other, { recursive: true, force: true });
    } finally {
      held.close();
      expect(await stop(child)).toBe(0);
    }
  });

  it('keeps data and the generated key across restarts', async () => {
    const { child, output } = await start();
    try {
      expect(output).toMatch(/seeded\s+nothing new/);
      const key = /API key\s+(\S+)/.exec(output)?.[1];
      expect(key).toMatch(/^mg-/);
      expect(execFileSync('cat', [join(home, 'api-key')], { encoding: 'utf8' }).trim()).toBe(key);
    } finally {
      expect(await stop(child)).toBe(0);
    }
  });
});
