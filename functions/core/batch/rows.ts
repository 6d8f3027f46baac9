/**
 * Where batch rows are parsed, for whole-file jobs (score-file.ts) and Distributed Map chunks (chunks.ts)
 * alike: the input a batch job feeds, row checks and CSV rows (byte-level fast paths: row-bytes.ts; JSON rows: json-rows.ts).
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
