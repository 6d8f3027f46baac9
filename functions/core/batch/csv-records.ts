/**
 * CSV records found in a byte stream as Step Functions' CSV item reader finds them (quoted fields may hold
 * commas, doubled quotes and line breaks; CRLF or LF ends a record; blank lines are no records), with their field counts.
 */
import { splitCsv } from './rows.ts';

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

/**
 * Splits CSV bytes, written in chunks of any size, into records and calls
 * `onRecord(fields, index)` for each, in order (`index` 0 is the first record,
 * the header). A record without quotes has one field more than commas; one
 * with quotes is counted by `splitCsv`, the parser the whole-file path uses.
 * The end of a chunk is held (not copied) while its record goes on in the
 * next one: the caller must not reuse a chunk's memory.
 *
 * @example
 * const counts: number[] = [];
 * const splitter = new CsvRecordSplitter((fields) => counts.push(fields));
 * splitter.write(Buffer.from('a,b\n"x,\ny",z\n\n1,2,3'));
 * splitter.end(); // counts: [2, 2, 3]
 */
export class CsvRecordSplitter {
  /** Records seen so far, the header among them. */
  records = 0;
  private quoted = false;
  private commas = 0;
  private hasQuotes = false;
  /** Bytes of the current record in earlier chunks (views of the chunks). */
  private held: Uint8Array[] = [];

  constructor(private readonly onRecord: (fields: number, index: number) => void) {}

  write(chunk: Uint8Array): void {
    const n = chunk.length;
    let from = 0;
    let i = 0;
    let { quoted, commas, hasQuotes } = this;
    while (i < n) {
      if (quoted) {
        // Commas and line breaks inside quotes belong to the field; `""` leaves and re-enters them.
        const close = chunk.indexOf(QUOTE, i);
        if (close < 0) break;
        quoted = false;
        i = close + 1;
        continue;
      }
      let c = 0;
      for (; i < n; i++) {
        c = chunk[i] as number;
        if (c === COMMA) commas++;
        else if (c === LF || c === QUOTE) break;
      }
      if (i === n) break;
      if (c === QUOTE) {
        quoted = true;
        hasQuotes = true;
      } else {
        this.finish(chunk.subarray(from, i), commas, hasQuotes);
        from = i + 1;
        commas = 0;
        hasQuotes = false;
      }
      i++;
    }
    this.quoted = quoted;
    this.commas = commas;
    this.hasQuotes = hasQuotes;
    if (from < chunk.length) {
      // Held even without quotes so far: they may come in the next chunk.
      this.held.push(chunk.subarray(from));
    }
  }

  /** The end of the input: a last record without a line break is a record too. */
  end(): void {
    if (this.held.length > 0) this.finish(new Uint8Array(0), this.commas, this.hasQuotes);
    this.quoted = false;
    this.commas = 0;
    this.hasQuotes = false;
  }

  /** Ends the record made of the held bytes and `tail` (its bytes in the chunk at hand, before the LF). */
  private finish(tail: Uint8Array, commas: number, hasQuotes: boolean): void {
    const record = this.held.length > 0 ? Buffer.concat([...this.held, tail]) : tail;
    this.held = [];
    const length = record.length - (record[record.length - 1] === CR ? 1 : 0);
    if (length > 0) {
      const fields = hasQuotes
        ? splitCsv(Buffer.from(record.buffer, record.byteOffset, length).toString('utf8')).length
        : commas + 1;
      this.onRecord(fields, this.records++);
    }
  }
}
