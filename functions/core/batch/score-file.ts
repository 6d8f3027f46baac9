/**
 * A whole input file through an ONNX model: lines streamed from S3, rows parsed (plain numbers
 * straight into the input tensor) and scored in micro-batches, one output line per input line
 * (per CSV record: a quoted field may hold line breaks, and the record is numbered by its first line).
 */
import type { Manifest, TensorSpec } from '../registry/manifest.ts';
import type { ModelRunner } from '../runners/runner.ts';
import { isGzipError, LineCursor, objectBlocks, objectWriter } from './io.ts';
import type { BatchDependencies } from './job.ts';
import { parseJsonRow } from './json-rows.ts';
import type { BatchTarget } from './layout.ts';
import { parseCsvInto, parseJsonArrayInto } from './row-bytes.ts';
import { type CsvLayout, csvColumns, type ParsedRow, parseCsvRow, rowWidth } from './rows.ts';
import { MicroBatch } from './score.ts';

/** A job that cannot succeed however often it is retried: the manifest says why. */
class JobFailure extends Error {}

/** How long a CSV record with line breaks in quotes may grow before it is taken as an unclosed quote. */
const MAX_RECORD_CHARS = 1 << 20;

function quoteCount(text: string): number {
  let count = 0;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) count++;
  return count;
}

/** Streams input to output; per-row problems become error lines, a broken input ends the job as failed. */
export async function scoreFile(
  deps: Pick<BatchDependencies, 's3' | 'bucket' | 'microBatchRows'>,
  location: BatchTarget,
  model: Manifest,
  spec: TensorSpec,
  runner: ModelRunner,
) {
  const batchRows = deps.microBatchRows ?? 4096;
  const output = objectWriter(deps, location.outputKey);
  const stats = {
    rows: 0,
    failed: 0,
    blankLines: 0,
    modelMs: 0,
    error: undefined as string | undefined,
    emptyReason: '',
  };
  const batch = new MicroBatch(model, spec, batchRows);
  // The model scores one micro-batch (and its lines are written) while the next one is parsed;
  // the one after waits for that one, so at most two are held at a time.
  let inflight: Promise<void> = Promise.resolve();
  const flush = async () => {
    if (batch.size === 0) return;
    const scoring = batch.score(runner);
    const previous = inflight;
    inflight = (async () => {
      const scored = await scoring;
      await previous;
      stats.failed += scored.failed;
      stats.modelMs += scored.modelMs;
      await output.write(scored.bytes);
    })();
    // Awaited by the next flush (or finish); this only keeps it from counting as unhandled meanwhile.
    inflight.catch(() => {});
    await previous;
  };
  const finish = async () => {
    await flush();
    await inflight;
  };

  let lineNumber = 0;
  let columns: (CsvLayout & { fieldStarts: Int32Array }) | undefined;
  // A CSV record whose quoted field holds line breaks, while its lines are gathered.
  let open: { text: string; line: number; quotes: number } | undefined;
  const addRow = async (line: number, row: ParsedRow) => {
    stats.rows++;
    batch.add(line, row);
    if (batch.full) await flush();
  };
  const closeOpenRecord = async () => {
    if (!open) return;
    const { line } = open;
    open = undefined;
    await addRow(line, {
      error: `a quoted field opened on line ${line} is not closed (lines ${line}-${lineNumber}); close its quotes`,
    });
  };
  const width = rowWidth(spec);
  // Flat arrays go straight into the tensor only for [-1, F] inputs; nested rows take the general parser.
  const flatRows = spec.shape.length === 2;
  try {
    try {
      for await (const block of objectBlocks(deps, location.inputKey, location.gzip)) {
        const cursor = new LineCursor(block);
        while (cursor.next()) {
          lineNumber++;
          if (open && columns) {
            // A line break inside quotes: this line belongs to the record opened above.
            const more = cursor.text();
            open.text += `\n${more}`;
            open.quotes += quoteCount(more);
            if (open.quotes % 2 === 0) {
              const { text, line } = open;
              open = undefined;
              await addRow(line, parseCsvRow(text, columns, spec));
            } else if (open.text.length > MAX_RECORD_CHARS) await closeOpenRecord();
            continue;
          }
          const { start, end } = cursor;
          const first = block[start];
          // Plain rows of numbers go from bytes straight into the input tensor.
          if (first !== undefined && first > 32 && first < 128 && batch.target) {
            const parsed = columns
              ? parseCsvInto(
                  block,
                  start,
                  end,
                  columns.columns,
                  columns.fieldStarts,
                  batch.target,
                  batch.offset,
                )
              : location.format === 'jsonl' &&
                flatRows &&
                parseJsonArrayInto(block, start, end, width, batch.target, batch.offset);
            if (parsed) {
              stats.rows++;
              batch.commit(lineNumber);
              if (batch.full) await flush();
              continue;
            }
          }
          const line = cursor.text();
          if (line.trim() === '') {
            stats.blankLines++;
            continue;
          }
          if (location.format === 'csv' && !columns) {
            try {
              const header = csvColumns(line, model, spec);
              columns = { ...header, fieldStarts: new Int32Array(header.fields + 1) };
            } catch (error) {
              throw new JobFailure((error as Error).message);
            }
            continue;
          }
          const quotes = columns ? quoteCount(line) : 0;
          if (quotes % 2 === 1) {
            open = { text: line, line: lineNumber, quotes };
            continue;
          }
          await addRow(
            lineNumber,
            columns ? parseCsvRow(line, columns, spec) : parseJsonRow(line, model, spec),
          );
        }
      }
      await closeOpenRecord();
    } catch (error) {
      if (!isGzipError(error)) throw error;
      await closeOpenRecord();
      await finish();
      throw new JobFailure(
        `the input is not valid gzip after line ${lineNumber}: ${(error as Error).message}; rows before it were scored`,
      );
    }
    await finish();
    if (stats.rows === 0) {
      stats.emptyReason =
        location.format === 'csv' && columns ? 'the CSV has a header but no rows' : 'the input has no rows';
    }
    await output.end();
  } catch (error) {
    if (!(error instanceof JobFailure)) {
      await output.abort();
      throw error;
    }
    stats.error = error.message;
    await output.end();
  }
  return stats;
}
