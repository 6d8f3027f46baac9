/**
 * `GET /v1/batches/{id}/errors`: the failed rows of a caller's own job, read back from the
 * job's output file (`{"line", "error"}` lines), at most ROW_ERRORS_LIMIT of them.
 */
import { isObject } from '../json.ts';
import { isMissingKey } from '../s3.ts';
import type { BatchApiDependencies } from './api.ts';
import { objectLines } from './io.ts';
import { ownedBatchStatus } from './tenants.ts';

/** Most failed rows one answer lists; `has_more` says there are others. */
export const ROW_ERRORS_LIMIT = 100;

/** One failed row: its line in the input file and why it failed. */
export interface RowError {
  readonly line: number;
  readonly error: string;
}

export interface RowErrorList {
  readonly object: 'list';
  readonly id: string;
  /** The output file the rows were read from (empty until the job has one). */
  readonly output: string;
  readonly data: RowError[];
  readonly has_more: boolean;
}

/**
 * The failed rows of the caller's job `id`, in input order. Another key's job
 * and an unknown id are both 404 (the owner check of ownedBatchStatus). A job
 * still queued or running, or whose manifest counts no failed row, has none.
 */
export async function ownedBatchErrors(
  deps: BatchApiDependencies,
  keyId: string,
  id: string,
): Promise<RowErrorList> {
  const job = await ownedBatchStatus(deps, keyId, id);
  const data: RowError[] = [];
  let hasMore = false;
  // Only a finished job that counted failed rows is read: no output is fetched that has none
  // to list, or that does not exist yet.
  const m = job.manifest;
  if (job.output && m && m.status !== 'running' && m.failed > 0) {
    try {
      for await (const text of objectLines(deps, job.output, false)) {
        const row = failedRow(text);
        if (!row) continue;
        if (data.length === ROW_ERRORS_LIMIT) {
          hasMore = true;
          break;
        }
        data.push(row);
      }
    } catch (error) {
      if (!(await isMissingKey(deps, job.output, error))) throw error;
    }
  }
  return { object: 'list', id: job.id, output: job.output, data, has_more: hasMore };
}

/** The `{"line", "error"}` of an output line, or undefined for a row that was answered. */
function failedRow(text: string): RowError | undefined {
  if (!text.includes('"error"')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(parsed) || typeof parsed.line !== 'number' || typeof parsed.error !== 'string')
    return undefined;
  return { line: parsed.line, error: parsed.error };
}
