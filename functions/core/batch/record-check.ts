/**
 * The merge step's check of a distributed CSV job: the input read once for records whose field count is not the
 * header's (Step Functions drops the extra fields before the chunk function sees them), and their output lines replaced.
 */
import { S3ServiceException } from '@aws-sdk/client-s3';
import { isMissingKey } from '../s3.ts';
import { CsvRecordSplitter } from './csv-records.ts';
import { type BatchStore, objectBlocks } from './io.ts';
import type { BatchTarget } from './layout.ts';
import { fieldCountError } from './rows.ts';

/** A record whose field count is not the header's: `index` is its item index (0: the record after the header). */
export interface Misfit {
  readonly index: number;
  readonly fields: number;
  readonly header: number;
}

/**
 * The misfit records of a CSV input, in order, read in one pass (streamed,
 * never whole in memory); returns how many items (records after the header)
 * the input has.
 */
export async function* csvMisfits(
  store: BatchStore,
  target: BatchTarget,
  eTag?: string,
): AsyncGenerator<Misfit, number> {
  let header = 0;
  let found: Misfit[] = [];
  const splitter = new CsvRecordSplitter((fields, n) => {
    if (n === 0) header = fields;
    else if (fields !== header) found.push({ index: n - 1, fields, header });
  });
  for await (const block of objectBlocks(store, target.inputKey, target.gzip, eTag)) {
    splitter.write(block);
    if (found.length > 0) {
      yield* found;
      found = [];
    }
  }
  splitter.end();
  yield* found;
  return Math.max(0, splitter.records - 1);
}

/**
 * Walks the misfits of an input alongside the parts being merged, in order,
 * so only the misfits of the part at hand are ever held. A missing or
 * replaced input ends the check, with `problem` saying so.
 */
export class RecordCheck {
  /** Items the input has, once it has been read to the end. */
  items: number | undefined;
  problem: string | undefined;
  private pending: Misfit | undefined;
  private readonly misfits: AsyncGenerator<Misfit, number>;

  constructor(
    private readonly store: BatchStore,
    private readonly target: BatchTarget,
    eTag?: string,
  ) {
    this.misfits = csvMisfits(store, target, eTag);
  }

  /** The misfits among items `[first, end)`; earlier ones (a part the map never wrote) are passed over. */
  async within(first: number, end: number): Promise<Misfit[]> {
    const found: Misfit[] = [];
    for (;;) {
      const next = this.pending ?? (await this.next());
      this.pending = undefined;
      if (!next) break;
      if (next.index >= end) {
        this.pending = next;
        break;
      }
      if (next.index >= first) found.push(next);
    }
    return found;
  }

  private async next(): Promise<Misfit | undefined> {
    if (this.items !== undefined || this.problem) return undefined;
    try {
      const step = await this.misfits.next();
      if (!step.done) return step.value;
      this.items = step.value;
    } catch (error) {
      const replaced = error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412;
      if (!replaced && !(await isMissingKey(this.store, this.target.inputKey, error))) throw error;
      this.problem = `the input was ${replaced ? 'replaced' : 'removed'} before its records' field counts could be checked`;
    }
    return undefined;
  }
}

/**
 * A part's output lines with each misfit's line replaced by the error the
 * whole-file path writes for such a record; `failed` counts the rows that were
 * not already errors.
 */
export function replaceMisfits(
  text: string,
  first: number,
  misfits: readonly Misfit[],
): { text: string; failed: number } {
  const lines = text.split('\n');
  let failed = 0;
  for (const misfit of misfits) {
    const at = misfit.index - first;
    const old = lines[at];
    if (!old) continue;
    const scored = JSON.parse(old) as { line: number; error?: string };
    if (scored.error === undefined) failed++;
    lines[at] = JSON.stringify({ line: scored.line, error: fieldCountError(misfit.fields, misfit.header) });
  }
  return { text: lines.join('\n'), failed };
}
