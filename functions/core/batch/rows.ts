/**
 * Where batch rows are parsed, for whole-file jobs (score-file.ts) and Distributed Map chunks (chunks.ts)
 * alike: the input a batch job feeds, row checks, CSV rows and the byte-level fast paths (JSON rows: json-rows.ts).
 */
import { UnbatchableModelError } from '../errors.ts';
import { elementCount, formatShape } from '../protocols/tensors.ts';
import type { Manifest, TensorSpec } from '../registry/manifest.ts';

/** One input row, parsed: its feature values, or what was wrong with it. */
export type ParsedRow = { readonly values: number[] } | { readonly error: string };

const INTEGER_TYPES = new Set(['INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);

/** Values per row of a batch input: F for `[-1, F]`, 64 for `[-1, 1, 8, 8]`. */
export function rowWidth(spec: TensorSpec): number {
  return elementCount(spec.shape.slice(1));
}

/**
 * The single numeric input a batch job feeds, `[-1, F]` or `[-1, ...fixed dims]`,
 * or why the model cannot take batches.
 */
export function batchInput(manifest: Manifest): TensorSpec {
  const spec = manifest.inputs[0];
  const ok =
    manifest.inputs.length === 1 &&
    spec !== undefined &&
    spec.shape.length >= 2 &&
    spec.shape.slice(1).every((d) => d > 0) &&
    (spec.datatype.startsWith('FP') || INTEGER_TYPES.has(spec.datatype));
  if (!ok) {
    throw new UnbatchableModelError(
      `model '${manifest.name}' takes ${manifest.inputs.map((i) => `${i.name} ${i.datatype} [${i.shape}]`).join(', ')}; batch jobs need one numeric input of shape [-1, features] or [-1, fixed dims...]`,
    );
  }
  return spec as TensorSpec;
}

/** A row's values checked against the input: count, numbers, integers where the type needs them. */
export function checkValues(
  values: unknown[],
  width: number,
  spec: TensorSpec,
  names: readonly string[] | undefined,
): ParsedRow {
  if (values.length !== width) {
    return {
      error: `${values.length} values; the model expects ${width}${names ? ` (${names.join(', ')})` : ''}`,
    };
  }
  const integer = INTEGER_TYPES.has(spec.datatype);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || (integer && !Number.isInteger(v))) {
      const name = names?.[i] ? ` (${names[i]})` : '';
      return {
        error: `value ${i}${name} is ${JSON.stringify(v) ?? 'missing'}: expected ${integer ? 'an integer' : 'a number'}`,
      };
    }
  }
  return { values: values as number[] };
}

/** Fields of one CSV record (RFC 4180 quoting). */
export function splitCsv(line: string): string[] {
  // Most records have no quotes: split them natively.
  if (!line.includes('"')) return line.split(',');
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields;
}

/**
 * Where a CSV file's values are: `columns[i]` is the field holding feature
 * `names[i]`; every record must have `fields` fields, as the header has.
 */
export interface CsvLayout {
  readonly columns: readonly number[];
  readonly names: readonly string[];
  readonly fields: number;
}

/**
 * Maps CSV columns to the model's features: by name when the manifest has
 * feature names (other columns are ignored), else by position.
 *
 * @throws Error naming the missing columns or the width expected.
 */
export function csvColumns(header: string, manifest: Manifest, spec: TensorSpec): CsvLayout {
  const names = splitCsv(header).map((h) => h.trim());
  const width = rowWidth(spec);
  if (manifest.features) {
    const missing = manifest.features.filter((f) => !names.includes(f));
    if (missing.length > 0) {
      throw new Error(
        `the CSV header lacks ${missing.map((f) => `'${f}'`).join(', ')}; model '${manifest.name}' needs columns ${manifest.features.join(', ')}`,
      );
    }
    return {
      columns: manifest.features.map((f) => names.indexOf(f)),
      names: [...manifest.features],
      fields: names.length,
    };
  }
  if (names.length !== width) {
    throw new Error(
      `the CSV header has ${names.length} columns; model '${manifest.name}' takes ${width} features${spec.shape.length > 2 ? ` (its per-row shape ${formatShape(spec.shape.slice(1))}, row-major)` : ''}`,
    );
  }
  return { columns: names.map((_, i) => i), names, fields: names.length };
}

export function parseCsvRow(line: string, layout: CsvLayout, spec: TensorSpec): ParsedRow {
  return parseCsvFields(splitCsv(line), layout, spec);
}

/** What a CSV record with another field count than the header's is answered, on every batch path. */
export function fieldCountError(fields: number, header: number): string {
  return `${fields} fields; the header has ${header}`;
}

/**
 * A CSV record already split into fields. A record with more or fewer fields
 * than the header is refused whole: an unquoted comma shifts every column
 * after it, so no value of such a record can be trusted.
 */
export function parseCsvFields(
  fields: readonly (string | undefined)[],
  layout: CsvLayout,
  spec: TensorSpec,
): ParsedRow {
  const { columns, names } = layout;
  if (fields.length !== layout.fields) {
    return { error: fieldCountError(fields.length, layout.fields) };
  }
  const values = new Array<number>(columns.length);
  for (let i = 0; i < columns.length; i++) {
    const text = fields[columns[i] as number] ?? '';
    // Number('') and Number('  ') are 0: an empty cell is a missing value, not zero.
    const v = text.length === 0 || text.trim().length === 0 ? Number.NaN : Number(text);
    if (Number.isNaN(v)) {
      return { error: `column '${names[i]}' is ${JSON.stringify(text.trim())}: expected a number` };
    }
    values[i] = v;
  }
  return checkValues(values, columns.length, spec, names);
}

/** A typed array a micro-batch is parsed into (FP32 and FP64 models). */
export type RowTarget = Float32Array | Float64Array;

/** 10^0 … 10^22: the powers of ten a double holds exactly. */
const EXACT_POWERS = Array.from({ length: 23 }, (_, k) => 10 ** k);
const NOT_PARSED = Number.NaN;

/**
 * The JSON number in `bytes[start, end)`, exactly as `Number()` reads it, or
 * NaN when the text is anything else or needs more than the fast path does.
 * With at most 2^53 for the digits and 10^22 for the scale, `m / 10^k` (or
 * `m * 10^k`) is one correctly rounded IEEE operation on exact operands: the
 * same double `Number()` gives. Callers fall back to the general parser on NaN.
 */
export function parseNumberBytes(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  const negative = bytes[i] === 45; // '-'
  if (negative) i++;
  if (i >= end) return NOT_PARSED;
  let mantissa = 0;
  // Integer part: a single 0, or digits not starting with 0.
  if (bytes[i] === 48) i++;
  else if (isDigit(bytes[i])) {
    for (; i < end && isDigit(bytes[i]); i++) mantissa = mantissa * 10 + ((bytes[i] as number) - 48);
  } else return NOT_PARSED;
  let scale = 0;
  if (i < end && bytes[i] === 46) {
    // '.' and at least one digit
    const fraction = ++i;
    for (; i < end && isDigit(bytes[i]); i++) {
      mantissa = mantissa * 10 + ((bytes[i] as number) - 48);
      scale--;
    }
    if (i === fraction) return NOT_PARSED;
  }
  if (i < end && (bytes[i] === 101 || bytes[i] === 69)) {
    // 'e' / 'E', an optional sign, at least one digit
    i++;
    let sign = 1;
    if (bytes[i] === 45 || bytes[i] === 43) sign = bytes[i++] === 45 ? -1 : 1;
    const digits = i;
    let exponent = 0;
    for (; i < end && isDigit(bytes[i]) && exponent < 1000; i++) {
      exponent = exponent * 10 + ((bytes[i] as number) - 48);
    }
    if (i === digits) return NOT_PARSED;
    scale += sign * exponent;
  }
  if (i !== end || mantissa > Number.MAX_SAFE_INTEGER) return NOT_PARSED;
  let value: number;
  if (scale === 0 || mantissa === 0) value = mantissa;
  else if (scale < 0 && scale >= -22) value = mantissa / (EXACT_POWERS[-scale] as number);
  else if (scale > 0 && scale <= 22) value = mantissa * (EXACT_POWERS[scale] as number);
  else return NOT_PARSED;
  return negative ? -value : value;
}

const isDigit = (c: number | undefined) => c !== undefined && c >= 48 && c <= 57;
const isBlank = (c: number | undefined) => c === 32 || c === 9;

/**
 * A CSV record of plain numbers (no quotes) parsed from bytes straight into
 * `out` at `offset`: `columns[i]` is the field of feature i, and the record
 * must have exactly `fieldStarts.length - 1` fields (the header's). False when
 * the record needs the general parser (quotes, text, a field too many or too
 * few, anything it would answer with an error), which then decides what the
 * row is.
 */
export function parseCsvInto(
  bytes: Uint8Array,
  start: number,
  end: number,
  columns: readonly number[],
  fieldStarts: Int32Array,
  out: RowTarget,
  offset: number,
): boolean {
  // Field boundaries first: fieldStarts[f] is where field f starts, fieldStarts[f + 1] - 1 where it ends.
  const expected = fieldStarts.length - 1;
  let fields = 0;
  fieldStarts[fields++] = start;
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c === 44) {
      if (fields === expected) return false;
      fieldStarts[fields++] = i + 1;
    } else if (c === 34) return false;
  }
  if (fields !== expected) return false;
  fieldStarts[fields] = end + 1;
  for (let f = 0; f < columns.length; f++) {
    const column = columns[f] as number;
    let s = fieldStarts[column] as number;
    let e = (fieldStarts[column + 1] as number) - 1;
    while (s < e && isBlank(bytes[s])) s++;
    while (e > s && isBlank(bytes[e - 1])) e--;
    const value = parseNumberBytes(bytes, s, e);
    if (Number.isNaN(value)) return false;
    out[offset + f] = value;
  }
  return true;
}

/**
 * A JSON Lines row that is an array of exactly `width` plain numbers, parsed
 * from bytes straight into `out` at `offset`. False for anything else (objects,
 * other widths, non-numbers, malformed JSON): the general parser decides.
 */
export function parseJsonArrayInto(
  bytes: Uint8Array,
  start: number,
  end: number,
  width: number,
  out: RowTarget,
  offset: number,
): boolean {
  let i = start;
  while (i < end && isBlank(bytes[i])) i++;
  let e = end;
  while (e > i && isBlank(bytes[e - 1])) e--;
  if (bytes[i] !== 91 || bytes[e - 1] !== 93) return false; // '[' … ']'
  i++;
  e--;
  for (let f = 0; f < width; f++) {
    let s = i;
    while (i < e && bytes[i] !== 44) i++;
    let stop = i;
    while (s < stop && isBlank(bytes[s])) s++;
    while (stop > s && isBlank(bytes[stop - 1])) stop--;
    const value = parseNumberBytes(bytes, s, stop);
    if (Number.isNaN(value)) return false;
    out[offset + f] = value;
    if (f < width - 1) {
      if (i >= e) return false; // fewer values than the model takes
      i++; // ','
    }
  }
  return i === e;
}
