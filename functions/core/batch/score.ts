/**
 * Where batch rows are scored: rows gathered into micro-batches, each run through the model once and rendered
 * as JSON Lines (a prediction or an error per row), for whole-file jobs and Distributed Map chunks alike.
 */
import { encodeElements } from '../protocols/datatypes.ts';
import { predictResponse } from '../protocols/predict.ts';
import type { Manifest, TensorSpec } from '../registry/manifest.ts';
import type { ModelRunner } from '../runners/runner.ts';
import type { RowTarget } from './row-bytes.ts';
import { type ParsedRow, rowWidth } from './rows.ts';

/** A parsed input row and the line it came from. */
export interface LineRow {
  readonly line: number;
  readonly row: ParsedRow;
}

/** One scored micro-batch: its output lines, how many rows failed, time in the model. */
export interface Scored {
  /** The output lines (JSON Lines, UTF-8). */
  readonly bytes: Buffer;
  readonly failed: number;
  readonly modelMs: number;
}

/**
 * The rows of one micro-batch, in input order, until it is scored in a single
 * model run. Valid rows of FP32/FP64 models are written straight into the
 * input tensor (`target`, at `offset`) by the byte parsers and committed with
 * `commit(line)`; other rows arrive parsed (`add`). Scoring renders one output
 * line per row: `{"line", "prediction"[, "probabilities"]}`, or `{"line",
 * "error"}` for a row that did not parse or a run that failed. The same code
 * serves whole-file jobs and Distributed Map chunks.
 */
export class MicroBatch {
  /** The input tensor being filled, for models whose input is FP32 or FP64. */
  readonly target: RowTarget | undefined;
  private readonly width: number;
  /** Values of the valid rows of other input types. */
  private values: number[] = [];
  private lines: number[] = [];
  private errors = new Map<number, string>();
  private valid = 0;

  constructor(
    private readonly model: Manifest,
    private readonly spec: TensorSpec,
    /** Valid rows per model run. */
    readonly capacity: number,
  ) {
    this.width = rowWidth(spec);
    if (spec.datatype === 'FP32') this.target = new Float32Array(capacity * this.width);
    else if (spec.datatype === 'FP64') this.target = new Float64Array(capacity * this.width);
  }

  /** Where the next valid row's values go in `target`. */
  get offset(): number {
    return this.valid * this.width;
  }

  get size(): number {
    return this.lines.length;
  }

  /** Time to score: a full model run, or as many rows again held back by errors. */
  get full(): boolean {
    return this.valid >= this.capacity || this.lines.length >= this.capacity * 2;
  }

  /** A valid row already written into `target` at `offset`. */
  commit(line: number): void {
    this.lines.push(line);
    this.valid++;
  }

  add(line: number, row: ParsedRow): void {
    if ('error' in row) {
      this.errors.set(this.lines.length, row.error);
      this.lines.push(line);
      return;
    }
    if (this.target) this.target.set(row.values, this.offset);
    else for (const v of row.values) this.values.push(v);
    this.commit(line);
  }

  /**
   * Runs the model once over the valid rows and renders every row's output
   * line. The batch is emptied before this returns, its rows copied: the
   * caller may fill it again while the model runs.
   */
  score(runner: ModelRunner): Promise<Scored> {
    const { valid, lines, errors, values } = this;
    const data = this.target?.slice(0, valid * this.width);
    this.values = [];
    this.lines = [];
    this.errors = new Map();
    this.valid = 0;
    return this.render(runner, valid, lines, errors, data ?? values);
  }

  private async render(
    runner: ModelRunner,
    valid: number,
    lines: readonly number[],
    errors: ReadonlyMap<number, string>,
    values: RowTarget | number[],
  ): Promise<Scored> {
    let predictions: unknown[] = [];
    let probabilities: unknown[] | undefined;
    let failure: string | undefined;
    let modelMs = 0;
    if (valid > 0) {
      const started = performance.now();
      try {
        const data = Array.isArray(values)
          ? encodeElements(values, this.spec.datatype, (i) => `value ${i}`)
          : values;
        const inputs = [
          {
            name: this.spec.name,
            datatype: this.spec.datatype,
            shape: [valid, ...this.spec.shape.slice(1)],
            data,
          },
        ];
        // The model's own run time where the runner tells it (a queued run waits for the one before).
        const { outputs, ms } = runner.inferTimed
          ? await runner.inferTimed(inputs)
          : { outputs: await runner.infer(inputs), ms: performance.now() - started };
        modelMs = ms;
        const shaped = predictResponse(this.model, outputs);
        predictions = shaped.predictions;
        probabilities = shaped.probabilities;
      } catch (error) {
        failure = `the model failed on this micro-batch of ${valid} rows: ${(error as Error).message}`;
        modelMs = performance.now() - started;
      }
    }
    let k = 0;
    let failed = 0;
    const out = new LineBytes(lines.length * 48);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] as number;
      const error = errors.size > 0 ? errors.get(i) : undefined;
      if (error !== undefined) {
        failed++;
        out.text(`${JSON.stringify({ line, error })}\n`);
      } else if (failure) {
        failed++;
        k++;
        out.text(`${JSON.stringify({ line, error: failure })}\n`);
      } else {
        // The bytes of JSON.stringify({line, prediction, probabilities}), written without an object or string per row.
        const prediction = predictions[k];
        out.ascii('{"line":');
        out.int(line);
        out.ascii(',"prediction":');
        if (typeof prediction === 'number' && Number.isFinite(prediction)) out.ascii(String(prediction));
        else out.text(JSON.stringify(prediction ?? null));
        if (probabilities) {
          out.ascii(',"probabilities":');
          out.text(JSON.stringify(probabilities[k]));
        }
        out.ascii('}\n');
        k++;
      }
    }
    return { bytes: out.bytes(), failed, modelMs };
  }
}

/** A growing buffer of output bytes. */
class LineBytes {
  private buffer: Buffer;
  private at = 0;

  constructor(capacity: number) {
    this.buffer = Buffer.allocUnsafe(Math.max(64, capacity));
  }

  /** A string of ASCII characters only (JSON punctuation, the digits of a number). */
  ascii(value: string): void {
    this.reserve(value.length);
    const buffer = this.buffer;
    let at = this.at;
    for (let i = 0; i < value.length; i++) buffer[at++] = value.charCodeAt(i);
    this.at = at;
  }

  /** A non-negative integer, in decimal. */
  int(value: number): void {
    if (!(Number.isSafeInteger(value) && value >= 0)) {
      this.ascii(String(value));
      return;
    }
    this.reserve(16);
    const buffer = this.buffer;
    const start = this.at;
    let at = start;
    let v = value;
    do {
      buffer[at++] = 48 + (v % 10);
      v = Math.floor(v / 10);
    } while (v > 0);
    for (let a = start, b = at - 1; a < b; a++, b--) {
      const digit = buffer[a] as number;
      buffer[a] = buffer[b] as number;
      buffer[b] = digit;
    }
    this.at = at;
  }

  /** Any string, as UTF-8. */
  text(value: string): void {
    this.reserve(Buffer.byteLength(value));
    this.at += this.buffer.write(value, this.at, 'utf8');
  }

  bytes(): Buffer {
    return this.buffer.subarray(0, this.at);
  }

  private reserve(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }
}

/** Scores rows already parsed (Distributed Map chunks) as one micro-batch. */
export function scoreRows(
  model: Manifest,
  spec: TensorSpec,
  runner: ModelRunner,
  rows: readonly LineRow[],
): Promise<Scored> {
  const batch = new MicroBatch(model, spec, Math.max(1, rows.length));
  for (const { line, row } of rows) batch.add(line, row);
  return batch.score(runner);
}
