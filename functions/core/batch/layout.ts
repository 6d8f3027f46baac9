/**
 * The batch folders of the model bucket: which job an input key (`batch/input/<model>/<file>`) describes,
 * its format and compression, or why it is none; and where its output and manifest go.
 */
import { MODEL_NAME } from '../registry/manifest.ts';

/** Where data teams drop files: `batch/input/<model>/<file>`. */
export const BATCH_INPUT = 'batch/input/';
/** Where predictions land: `batch/output/<model>/<file>.jsonl` and `.manifest.json`. */
export const BATCH_OUTPUT = 'batch/output/';

/** Where an API key's own batch files are read from: `batch/keys/<key id>/<file>`. */
export const BATCH_KEYS = 'batch/keys/';
/** Where jobs submitted through the API are recorded: `batch/jobs/<key id>/<job id>.json`. */
export const BATCH_JOBS = 'batch/jobs/';

export type InputFormat = 'jsonl' | 'csv';

export interface BatchTarget {
  readonly model: string;
  /** File name under the model's folder (may contain sub-folders). */
  readonly file: string;
  readonly inputKey: string;
  readonly outputKey: string;
  readonly manifestKey: string;
  readonly format: InputFormat;
  readonly gzip: boolean;
}

/** A key under `batch/input/` that is not a job: the manifest says why. */
export interface RejectedTarget {
  readonly inputKey: string;
  readonly manifestKey: string;
  readonly error: string;
}

const FORMATS: Record<string, InputFormat> = { jsonl: 'jsonl', ndjson: 'jsonl', json: 'jsonl', csv: 'csv' };

/**
 * The job an input key describes, or why it is not one. Undefined for keys
 * outside `batch/input/` (not ours to answer).
 */
export function batchTarget(inputKey: string): BatchTarget | RejectedTarget | undefined {
  if (!inputKey.startsWith(BATCH_INPUT) || inputKey.endsWith('/')) return undefined;
  const rest = inputKey.slice(BATCH_INPUT.length);
  const slash = rest.indexOf('/');
  const manifestKey = `${BATCH_OUTPUT}${rest}.manifest.json`;
  if (slash <= 0) {
    return {
      inputKey,
      manifestKey,
      error: `key '${inputKey}' is outside the layout: expected ${BATCH_INPUT}<model>/<file>`,
    };
  }
  const model = rest.slice(0, slash);
  const file = rest.slice(slash + 1);
  if (!MODEL_NAME.test(model)) {
    return { inputKey, manifestKey, error: `'${model}' in key '${inputKey}' is not a model name` };
  }
  const gzip = file.endsWith('.gz');
  const extension = (gzip ? file.slice(0, -3) : file).split('.').pop()?.toLowerCase() ?? '';
  const format = FORMATS[extension];
  if (!format || !file.includes('.')) {
    return {
      inputKey,
      manifestKey,
      error: `file '${file}' has no supported format: expected .jsonl, .ndjson, .json or .csv, optionally .gz`,
    };
  }
  return {
    model,
    file,
    inputKey,
    outputKey: `${BATCH_OUTPUT}${model}/${file}.jsonl`,
    manifestKey: `${BATCH_OUTPUT}${model}/${file}.manifest.json`,
    format,
    gzip,
  };
}

export function isRejected(target: BatchTarget | RejectedTarget): target is RejectedTarget {
  return 'error' in target;
}
