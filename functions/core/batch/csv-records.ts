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
  /** Bytes of the current record in earlier chunks, and whether the last of them is a CR. */
  private carried = 0;
  private carriedCr = false;
  /** Those bytes themselves (views of the chunks), for splitCsv when the record has quotes. */
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
        this.commas = commas;
        this.hasQuotes = hasQuotes;
        this.finish(chunk, from, i);
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
      this.carried += chunk.length - from;
      this.carriedCr = chunk[chunk.length - 1] === CR;
    }
  }

  /** The end of the input: a last record without a line break is a record too. */
  end(): void {
    if (this.carried > 0) this.finish(new Uint8Array(0), 0, 0);
    this.quoted = false;
  }

  /** Ends the record made of the carried bytes and `chunk[from, to)`. */
  private finish(chunk: Uint8Array, from: number, to: number): void {
    const endsWithCr = to > from ? chunk[to - 1] === CR : this.carriedCr;
    const length = this.carried + to - from - (endsWithCr ? 1 : 0);
    if (length > 0) {
      let fields = this.commas + 1;
      if (this.hasQuotes) {
        const bytes = Buffer.concat([...this.held, chunk.subarray(from, to)]);
        fields = splitCsv(bytes.toString('utf8', 0, bytes.length - (endsWithCr ? 1 : 0))).length;
      }
      this.onRecord(fields, this.records++);
    }
    this.commas = 0;
    this.hasQuotes = false;
    this.carried = 0;
    this.carriedCr = false;
    this.held = [];
  }
}
