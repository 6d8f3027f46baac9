/**
 * The batch row readers against their references (fast-check): the byte number parser against Number(), the byte
 * CSV and JSON-array parsers against the general ones, CSV records against their header, lines against readline.
 */
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineCursor, lineBlocks } from '../../../../functions/core/batch/io.ts';
import { parseJsonRow } from '../../../../functions/core/batch/json-rows.ts';
import {
  parseCsvInto,
  parseJsonArrayInto,
  parseNumberBytes,
} from '../../../../functions/core/batch/row-bytes.ts';
import { csvColumns, parseCsvFields, parseCsvRow } from '../../../../functions/core/batch/rows.ts';
import type { Manifest, TensorSpec } from '../../../../functions/core/registry/manifest.ts';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const parse = (text: string) => parseNumberBytes(bytes(text), 0, Buffer.byteLength(text));

const spec: TensorSpec = { name: 'input', datatype: 'FP32', shape: [-1, 3] };
const model = { name: 'm', inputs: [spec], features: ['a', 'b', 'c'] } as unknown as Manifest;

/** A row a byte parser accepted holds exactly the float32 values of the general parser's answer. */
function expectAgreement(accepted: boolean, out: Float32Array, general: unknown) {
  if (!accepted) return;
  expect(general).toHaveProperty('values');
  expect([...out]).toEqual([...Float32Array.from((general as { values: number[] }).values)]);
}

/** Number-ish text: JSON numbers, and the near misses a CSV or a JSON line may hold. */
const numberText = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.double({ min: -1, max: 1, noNaN: true }).map((v) => v.toFixed(5)),
  fc
    .tuple(fc.integer({ min: -1e6, max: 1e6 }), fc.nat(30), fc.integer({ min: -40, max: 40 }))
    .map(([m, z, e]) => `${m}.${'0'.repeat(z % 5)}${z}e${e}`),
  fc.stringMatching(/^[-+]?\d{0,20}(\.\d{0,20})?([eE][-+]?\d{0,3})?$/),
  fc.constantFrom(
    '',
    '-',
    '.5',
    '5.',
    '+1',
    '01',
    '-0',
    '0x1F',
    '1_0',
    'Infinity',
    '1e400',
    ' 1',
    'NaN',
    '1e-400',
  ),
);

describe('parseNumberBytes', () => {
  it('reads every JSON number it accepts exactly as Number() does, and declines the rest', () => {
    fc.assert(
      fc.property(numberText, (text) => {
        const fast = parse(text);
        if (Number.isNaN(fast)) return;
        expect(/^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/.test(text)).toBe(true);
        expect(Object.is(fast, Number(text))).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('handles the plain decimals batch files hold, and declines what JSON does not allow', () => {
    expect(parse('-0.04734')).toBe(-0.04734);
    expect(parse('151')).toBe(151);
    expect(parse('2.5e-3')).toBe(0.0025);
    expect(Object.is(parse('-0'), -0)).toBe(true);
    for (const text of ['', '-', '.5', '5.', '+1', '01', '1e', '1e+', 'abc', '1,5', '0x10']) {
      expect(parse(text), text).toBeNaN();
    }
    // Past 2^53 digits or 10^22 the general parser takes over.
    expect(parse('12345678901234567890')).toBeNaN();
    expect(parse('1e23')).toBeNaN();
  });
});

describe('byte row parsers', () => {
  const row = fc.array(fc.oneof(numberText, fc.constantFrom('"1"', 'x', '', ' 2 ', 'null')), {
    minLength: 0,
    maxLength: 5,
  });

  it('agree with the general CSV parser on every row they accept', () => {
    const layout = { columns: [2, 0, 1], names: ['a', 'b', 'c'], fields: 3 };
    const fieldStarts = new Int32Array(layout.fields + 1);
    fc.assert(
      fc.property(row, (fields) => {
        const line = fields.join(',');
        const out = new Float32Array(3);
        const accepted = parseCsvInto(
          bytes(line),
          0,
          Buffer.byteLength(line),
          layout.columns,
          fieldStarts,
          out,
          0,
        );
        const general = parseCsvRow(line, layout, spec);
        expectAgreement(accepted, out, general);
      }),
      { numRuns: 10_000 },
    );
  });

  it('agree with JSON.parse on every JSON Lines array they accept', () => {
    fc.assert(
      fc.property(row, fc.constantFrom('', ' ', '\t'), (values, pad) => {
        const line = `${pad}[${values.join(`,${pad}`)}]${pad}`;
        const out = new Float32Array(3);
        const accepted = parseJsonArrayInto(bytes(line), 0, Buffer.byteLength(line), 3, out, 0);
        const general = parseJsonRow(line, model, spec);
        expectAgreement(accepted, out, general);
      }),
      { numRuns: 10_000 },
    );
  });

  it('take the plain rows, leave quotes, text, and wrong widths to the general parser', () => {
    const out = new Float32Array(3);
    const starts = new Int32Array(4);
    const csv = (line: string) => parseCsvInto(bytes(line), 0, line.length, [0, 1, 2], starts, out, 0);
    expect(csv('1,2.5,-3')).toBe(true);
    expect([...out]).toEqual([1, 2.5, -3]);
    expect(csv(' 1 ,2 ,\t3')).toBe(true);
    for (const line of ['"1",2,3', '1,2', '1,,3', '1,x,3', '1,2,3e999', '1,2,3,4', '1,2,3,']) {
      expect(csv(line), line).toBe(false);
    }
    const json = (line: string) => parseJsonArrayInto(bytes(line), 0, line.length, 3, out, 0);
    expect(json('[4, 5, 6] ')).toBe(true);
    expect([...out]).toEqual([4, 5, 6]);
    for (const line of ['[1,2]', '[1,2,3,4]', '[1,2,3,]', '{"a":1}', '[1,"2",3]', '[1,2,3']) {
      expect(json(line), line).toBe(false);
    }
  });
});

describe('CSV records against their header', () => {
  const header = 'id,a,b,c,d,e,f,g,h,i';
  const tenColumns = { ...model, features: ['a', 'b', 'c'] } as Manifest;
  const layout = csvColumns(header, tenColumns, spec);

  it('refuses a record with a field more than the header, as it refuses one with a field fewer', () => {
    expect(layout.fields).toBe(10);
    expect(parseCsvRow('x,1,2,3,4,5,6,7,8,9', layout, spec)).toEqual({ values: [1, 2, 3] });
    // An unquoted comma in the first column shifts every value after it.
    expect(parseCsvRow('x,y,1,2,3,4,5,6,7,8,9', layout, spec)).toEqual({
      error: '11 fields; the header has 10',
    });
    expect(parseCsvRow('x,1,2,3,4,5,6,7,8', layout, spec)).toEqual({ error: '9 fields; the header has 10' });
    // A quoted comma is part of its field.
    expect(parseCsvRow('"x,y",1,2,3,4,5,6,7,8,9', layout, spec)).toEqual({ values: [1, 2, 3] });
  });

  it('leaves every record whose field count differs from the header to the general parser on the byte path', () => {
    const starts = new Int32Array(layout.fields + 1);
    const out = new Float32Array(3);
    const line = 'x,y,1,2,3,4,5,6,7,8,9';
    expect(parseCsvInto(bytes(line), 0, line.length, layout.columns, starts, out, 0)).toBe(false);
    const good = 'x,1,2,3,4,5,6,7,8,9';
    expect(parseCsvInto(bytes(good), 0, good.length, layout.columns, starts, out, 0)).toBe(true);
    expect([...out]).toEqual([1, 2, 3]);
  });

  it('refuses the same records when Step Functions hands them over already split', () => {
    const fields = 'x,y,1,2,3,4,5,6,7,8,9'.split(',');
    expect(parseCsvFields(fields, layout, spec)).toEqual({ error: '11 fields; the header has 10' });
  });
});

describe('LineCursor', () => {
  /** What readline (crlfDelay Infinity, as the batch reader used) makes of the same text. */
  async function readlineLines(text: string): Promise<string[]> {
    const lines: string[] = [];
    for await (const line of createInterface({
      input: Readable.from([text]),
      crlfDelay: Number.POSITIVE_INFINITY,
    })) {
      lines.push(line);
    }
    return lines;
  }

  it('splits lines as readline does: LF, CRLF, lone CR, blank lines, a last line without a break', async () => {
    const piece = fc.constantFrom('a', 'bc', '1,2', '', ' ', 'é');
    const brk = fc.constantFrom('\n', '\r\n', '\r', '\n\n');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(piece, brk), { maxLength: 8 }), piece, async (lines, last) => {
        const text = lines.map(([l, b]) => l + b).join('') + last;
        const cursor = new LineCursor(bytes(text));
        const ours: string[] = [];
        while (cursor.next()) ours.push(cursor.text());
        expect(ours).toEqual(await readlineLines(text));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('lineBlocks', () => {
  it('never splits a line between blocks, wherever the stream cuts it', async () => {
    const text = 'a,1\r\nbé,22\n\nlast line without a break';
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 1, max: text.length - 1 }), { maxLength: 6 }),
        async (cuts) => {
          const all = bytes(text);
          const points = [0, ...cuts.sort((a, b) => a - b), all.length];
          const chunks = points.slice(1).map((end, i) => all.subarray(points[i], end));
          const blocks: Buffer[] = [];
          for await (const block of lineBlocks(Readable.from(chunks))) blocks.push(block);
          expect(Buffer.concat(blocks).equals(all)).toBe(true);
          for (const block of blocks.slice(0, -1)) expect(block.at(-1)).toBe(10);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('throws instead of handing over the last line of a stream that broke', async () => {
    const blocks = lineBlocks(Readable.from([bytes('1,2\n3,')]), () => new Error('unexpected end of file'));
    expect((await blocks.next()).value?.toString()).toBe('1,2\n');
    await expect(blocks.next()).rejects.toThrow('unexpected end of file');
  });
});
