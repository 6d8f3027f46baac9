import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parityFixture } from '../fixtures/models.ts';

const root = new URL('../../', import.meta.url).pathname;
const home = mkdtempSync(join(tmpdir(), 'modelgate-start-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** Runs `npm start`'s entry like a user would, until it prints its banner. */
async function start(): Promise<{ child: ChildProcess; output: string }> {
  const child = spawn(join(root, 'node_modules/.bin/tsx'), ['local/start.ts'], {
    cwd: root,
    env: {
      ...process.env,
      MODELGATE_HOME: home,
      MODELGATE_PORT: '0',
      MODELGATE_S3_PORT: '0',
      MODELGATE_API_KEY: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
      expect(output).toMatch(/seeded\s+diabetes v1, iris v1, iris-logistic v1, linear v1/);
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
