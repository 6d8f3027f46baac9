/**
 * Generated batch files on the local topology (fast-check): good rows mixed with bad JSON Lines and CSV lines,
 * LF or CRLF, each accounted for by exactly one output line, in order.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropBatchFile } from '../fixtures/batch.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

let api: TestTopology;
beforeAll(async () => {
  api = await startTestTopology();
});
afterAll(() => api.close());

const drop = (file: string, body: string) => dropBatchFile(api, file, body);

describe('generated batch files with bad lines mixed in (fast-check)', () => {
  const good = fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 4, maxLength: 4 });
  const badJson = fc.oneof(
    fc.constantFrom(
      'not json',
      '[1, 2',
      '{}',
      '[]',
      'null',
      '"text"',
      '[1, 2, 3]',
      '[1, 2, 3, 4, 5]',
      '["a", 1, 2, 3]',
      '[NaN, 1, 2, 3]',
      '[[1, 2, 3, 4]]',
    ),
    fc
      .string({ minLength: 1, maxLength: 20 })
      .filter((s) => !s.includes('\n') && !s.includes('\r') && s.trim() !== ''),
  );
  const badCsv = fc.oneof(
    fc.constantFrom('1,2,3', '1,2,3,4,5', 'a,b,c,d', '1,,3,4', '"1,2",3,4', 'NaN,1,2,3'),
    fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/[\n\r]/.test(s) && s.trim() !== ''),
  );
  let n = 0;

  it('accounts for every row: one output line each, in order, a prediction for each good row and an error for each bad one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('jsonl', 'csv'),
        fc.array(
          fc.oneof(
            { weight: 3, arbitrary: good.map((row) => ({ row })) },
            fc.oneof(badJson, badCsv).map((bad) => ({ bad })),
          ),
          {
            minLength: 1,
            maxLength: 60,
          },
        ),
        fc.boolean(),
        async (format, rows, crlf) => {
          const eol = crlf ? '\r\n' : '\n';
          // A CSV line with an odd number of quotes opens a record that goes on over the next lines
          // (shown in batch.test.ts); here every line is a record of its own.
          const lines = rows.map((r) =>
            'row' in r
              ? format === 'csv'
                ? r.row.join(',')
                : JSON.stringify(r.row)
              : format === 'csv' && r.bad.split('"').length % 2 === 0
                ? r.bad.replaceAll('"', "'")
                : r.bad,
          );
          const body = `${format === 'csv' ? `sepal_length,sepal_width,petal_length,petal_width${eol}` : ''}${lines.join(eol)}${eol}`;
          const file = `iris/generated/${n++}.${format}`;
          const { manifest, lines: out } = await drop(file, body);
          expect(manifest.rows, body).toBe(rows.length);
          expect(manifest.succeeded + manifest.failed).toBe(rows.length);
          // Lines are numbered as in the file: a CSV's header is line 1.
          const first = format === 'csv' ? 2 : 1;
          expect(out.map((l) => l.line)).toEqual(rows.map((_, i) => i + first));
          out.forEach((line, i) => {
            const row = rows[i] as { row?: number[]; bad?: string };
            if (row.row) expect(line, `${format} line ${i + 1}: ${lines[i]}`).toHaveProperty('prediction');
            else if (!('prediction' in line))
              expect(line.error, `${format} line ${i + 1}: ${lines[i]}`).toMatch(/\w/);
          });
          expect(out.filter((l) => 'error' in l).length).toBe(manifest.failed);
        },
      ),
      { seed: 20261128, numRuns: 40, endOnFailure: true },
    );
  }, 120_000);
});
