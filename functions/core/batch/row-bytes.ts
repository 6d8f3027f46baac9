/**
 * The batch path's fast parsers: JSON numbers, plain CSV records and JSON arrays read from bytes straight into a
 * micro-batch's typed array. Anything they cannot take exactly falls back to the general parsers in ./rows.ts.
 */
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
