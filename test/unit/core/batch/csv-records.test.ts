/**
 * The CSV record splitter the merge step reads a distributed job's input with: records and field counts as Step
 * Functions' CSV reader documents them, the same however the bytes are cut, and as splitCsv counts a record's fields.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvRecordSplitter } from '../../../../functions/core/batch/csv-records.ts';
import { splitCsv } from '../../../../functions/core/batch/rows.ts';

/** The field counts of `text`'s records, the bytes written in pieces cut at `cuts`. */
function fieldCounts(text: string, cuts: number[] = []): number[] {
  const counts: number[] = [];
  const indexes: number[] = [];
  const splitter = new CsvRecordSplitter((fields, index) => {
    counts.push(fields);
    indexes.push(index);
  });
  const bytes = Buffer.from(text, 'utf8');
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    splitter.write(bytes.subarray(from, Math.max(from, Math.min(cut, bytes.length))));
    from = Math.max(from, Math.min(cut, bytes.length));
  }
  splitter.write(bytes.subarray(from));
  splitter.end();
  expect(indexes).toEqual(counts.map((_, i) => i));
  expect(splitter.records).toBe(counts.length);
  return counts;
}

describe('CsvRecordSplitter', () => {
  it('counts one field more than commas in a plain record, and a field too many or too few as it is', () => {
    expect(fieldCounts('a,b,c\n1,2,3\n1,2,3,4\n1,2\n')).toEqual([3, 3, 4, 2]);
  });

  it('keeps commas, doubled quotes and line breaks inside quotes in their field', () => {
    const text = 'id,note,x\n1,"a, b",2\n2,"say ""hi"", then\nleave",3\n3,"line\r\nbreak,",4\n';
    expect(fieldCounts(text)).toEqual([3, 3, 3, 3]);
  });

  it('skips blank lines (LF and CRLF) and ends records at CRLF without counting the CR', () => {
    expect(fieldCounts('a,b\r\n\r\n1,2\r\n\n\n3,4\r\n')).toEqual([2, 2, 2]);
  });

  it('counts a last record without a line break, and no record after a final one', () => {
    expect(fieldCounts('a,b\n1,2')).toEqual([2, 2]);
    expect(fieldCounts('a,b\n1,2\n')).toEqual([2, 2]);
    expect(fieldCounts('')).toEqual([]);
    expect(fieldCounts('\n\r\n')).toEqual([]);
  });

  it('counts a record with only empty fields, and a line of spaces, as records', () => {
    expect(fieldCounts('a,b\n,\n  \n')).toEqual([2, 2, 1]);
  });

  it('finds the same records wherever the chunks are cut: inside quotes, between CR and LF', () => {
    const text = 'a,b\r\n"x\r\ny",z\r\n\r\n1,2,3\r\n';
    const whole = fieldCounts(text);
    expect(whole).toEqual([2, 2, 3]);
    for (let cut = 0; cut <= text.length; cut++)
      expect(fieldCounts(text, [cut]), `cut at ${cut}`).toEqual(whole);
  });

  it('agrees with the fields written, with splitCsv on each record, and across any cuts (property)', () => {
    const plain = fc.stringMatching(/^[a-z0-9 .]{0,4}$/);
    const special = fc
      .array(fc.constantFrom('a', ',', '"', '\n', '\r', '\r\n', ' ', 'é'), { maxLength: 6 })
      .map((parts) => `"${parts.join('').replaceAll('"', '""')}"`);
    const record = fc.array(fc.oneof(plain, special), { minLength: 1, maxLength: 6 });
    const file = fc.array(
      fc.record({
        fields: record,
        ending: fc.constantFrom('\n', '\r\n'),
        blank: fc.constantFrom('', '\n', '\r\n'),
      }),
      { minLength: 1, maxLength: 12 },
    );
    fc.assert(
      fc.property(file, fc.array(fc.nat(400), { maxLength: 5 }), (records, cuts) => {
        // A record of one empty field is a blank line: write it quoted.
        const lines = records.map(({ fields }) => (fields.join(',') === '' ? '""' : fields.join(',')));
        const text = records.map((r, i) => `${r.blank}${lines[i]}${r.ending}`).join('');
        const counts = fieldCounts(text, cuts);
        expect(counts).toEqual(records.map((r) => r.fields.length));
        expect(counts).toEqual(lines.map((line) => splitCsv(line).length));
      }),
      { numRuns: 500 },
    );
  });
});
