/** `npm run bench` at tiny sizes: the harness runs the chosen benchmarks and writes a well-formed results table. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;

describe('npm run bench (the harness itself, tiny sizes)', () => {
  it('runs the chosen benchmarks and writes a well-formed table of measurement, figures, ratio, target and result', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'modelgate-bench-smoke-')), 'RESULTS.md');
    const { stdout } = await run(
      `${root}node_modules/.bin/tsx`,
      [`${root}bench/run.ts`, '--quick', '--out', out, 'handler', 'gateway', 'cold', 'svm'],
      { cwd: root, timeout: 110_000 },
    );
    const report = readFileSync(out, 'utf8');
    expect(report).toMatch(/^# Benchmark results\n/);
    expect(report).toMatch(/- Machine: .+, \d+ cores, \d+ GiB; Node v\d+/);
    const lines = report.split('\n');
    const start = lines.indexOf('| # | measurement | ModelGate | peer | ratio | target | result |');
    const end = lines.findIndex((line, i) => i > start && !line.startsWith('|'));
    const table = lines.slice(start, end).filter((line) => line.startsWith('| '));
    expect(table[0]).toBe('| # | measurement | ModelGate | peer | ratio | target | result |');
    const rows = table.slice(1).map((line) => line.split(' | '));
    expect(rows.map((cells) => cells[0])).toEqual(['| 3', '| 3', '| 7', '| 4', '| 4', '| 4', '| 11']);
    for (const cells of rows) {
      expect(cells).toHaveLength(7);
      expect(cells[2]).toMatch(/^[\d,.-]+ (µs|ms|MB)$/);
      expect(cells[5]).toMatch(/^[≤≥] [\d,.]+( ?×| µs| ms| MB)$/);
      expect(cells[6]).toMatch(/^(pass|miss|not run.*) \|$/);
    }
    expect(stdout).toMatch(/7 measurements: \d pass, \d miss, \d not run/);
  }, 120_000);
});
