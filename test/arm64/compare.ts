/**
 * Answers in a comparable form: HTTP bodies parsed (JSON, or server-sent events one by one),
 * and the values that legitimately differ between two runs (generated ids, clocks, durations)
 * replaced by a marker, so that everything else must be equal.
 */

/** Keys whose values are times or durations of a run. */
const CLOCK_KEYS = new Set([
  'created',
  'startedAt',
  'finishedAt',
  'durationMs',
  'rowsPerSecond',
  'modelMs',
  'importMs',
]);
/** Generated ids of OpenAI answers and of batch jobs. */
const GENERATED_ID = /^((chatcmpl|cmpl)-[0-9a-f]{32}|batch_[A-Za-z0-9_-]{32})$/;
/** A batch job's id inside a path or URI (its output location). */
const JOB_ID_IN_PATH = /batch_[A-Za-z0-9_-]{32}/g;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** `value` with clock values and generated ids replaced, and HTTP bodies parsed. */
export function comparable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(comparable);
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(([key, v]) => {
      if (CLOCK_KEYS.has(key) && v !== null && v !== undefined) return [key, '<clock>'];
      if (key === 'body' && typeof v === 'string') return [key, comparable(parseBody(v))];
      return [key, comparable(v)];
    });
    return Object.fromEntries(entries);
  }
  if (typeof value === 'string' && GENERATED_ID.test(value)) return '<generated id>';
  if (typeof value === 'string' && JOB_ID_IN_PATH.test(value))
    return value.replace(JOB_ID_IN_PATH, '<job id>');
  if (typeof value === 'string' && ISO_TIME.test(value)) return '<clock>';
  return value;
}

/** A body as JSON, as a list of server-sent events, or as it is. */
export function parseBody(body: string): unknown {
  if (body.startsWith('data: ')) {
    return body
      .split('\n\n')
      .filter(Boolean)
      .map((event) => {
        const data = event.replace(/^data: /, '');
        return data === '[DONE]' ? data : parseJson(data);
      });
  }
  return parseJson(body);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Relative difference allowed between two platforms' float results: onnxruntime's arm64
 * kernels (exp, softmax, dot products) round differently from its x64 ones, which moves the
 * last one or two of a float32's seven significant digits (the logistic model's smallest
 * probability, 4.76e-4, differs by 9e-7 of itself).
 */
export const FLOAT_TOLERANCE = 1e-5;

/**
 * `deployed` with each number that lies within FLOAT_TOLERANCE of the number at the same
 * place in `local` replaced by it. Anything else stays as it is, so a comparison with
 * `local` shows exactly the real differences.
 */
export function withinTolerance(deployed: unknown, local: unknown): unknown {
  if (typeof deployed === 'number' && typeof local === 'number') {
    if (Number.isInteger(deployed) && Number.isInteger(local)) return deployed;
    const scale = Math.max(Math.abs(deployed), Math.abs(local));
    return Math.abs(deployed - local) <= FLOAT_TOLERANCE * scale ? local : deployed;
  }
  if (Array.isArray(deployed) && Array.isArray(local)) {
    return deployed.map((v, i) => withinTolerance(v, local[i]));
  }
  if (deployed && local && typeof deployed === 'object' && typeof local === 'object') {
    const other = local as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(deployed as Record<string, unknown>).map(([k, v]) => [k, withinTolerance(v, other[k])]),
    );
  }
  return deployed;
}
