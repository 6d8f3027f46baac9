/**
 * A JSON Schema 2020-12 checker for the keywords ModelGate's OpenAI request schemas use, so that one schema both
 * refuses a request and describes it in the OpenAPI document. A failure names where (`messages[0].role`) and
 * what was expected, in words made from the schema, or from its `x-message` where words are not enough.
 */
import { isObject } from './json.ts';

/** The keywords checked; anything else in a schema (description, examples…) is documentation. */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly required?: readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly oneOf?: readonly JsonSchema[];
  readonly anyOf?: readonly JsonSchema[];
  readonly allOf?: readonly JsonSchema[];
  readonly not?: JsonSchema;
  /** Documentation only. */
  readonly description?: string;
  /** The whole message when this schema fails; `{path}` stands for where. */
  readonly 'x-message'?: string;
  /** The parameter an OpenAI error names when this schema fails, if not its path (`{path}` as above). */
  readonly 'x-param'?: string;
}

/** Why a value does not match: the message, and the parameter it is about. */
export interface SchemaProblem {
  readonly message: string;
  readonly param: string;
}

/** The first place `value` breaks `schema`, or undefined when it matches. */
export function schemaProblem(value: unknown, schema: JsonSchema, path = ''): SchemaProblem | undefined {
  return firstProblem(value, schema, path, true);
}

/** What {@link matches} gets for a failure: it asks only whether there is one, so no words are made. */
const UNTOLD: SchemaProblem = { message: '', param: '' };

/** {@link schemaProblem}, its failures put in words only when `tell` (not for oneOf/anyOf/not alternatives). */
function firstProblem(
  value: unknown,
  schema: JsonSchema,
  path: string,
  tell: boolean,
): SchemaProblem | undefined {
  // A node's own failure is told in its own words when it has them; its parts' failures in theirs.
  const here = (): SchemaProblem =>
    !tell
      ? UNTOLD
      : (told(schema, path) ?? {
          message: `'${path}' must be ${expected(schema)}, got ${shown(value)}`,
          param: path,
        });
  if (!matchesOwn(value, schema)) return here();
  if (schema.oneOf && schema.oneOf.filter((s) => matches(value, s)).length !== 1) return here();
  if (schema.anyOf && !schema.anyOf.some((s) => matches(value, s))) return here();
  if (schema.not && matches(value, schema.not)) return here();
  for (const part of schema.allOf ?? []) {
    const problem = firstProblem(value, part, path, tell);
    if (problem) return problem;
  }
  if (Array.isArray(value) && schema.items) {
    for (let i = 0; i < value.length; i++) {
      const problem = firstProblem(value[i], schema.items, `${path}[${i}]`, tell);
      if (problem) return problem;
    }
  }
  if (isObject(value)) {
    for (const name of schema.required ?? []) {
      if (!(name in value)) {
        if (!tell) return UNTOLD;
        const at = join(path, name);
        return told(schema.properties?.[name], at) ?? { message: `'${at}' is required`, param: at };
      }
    }
    for (const name in schema.properties) {
      if (name in value) {
        const problem = firstProblem(
          value[name],
          schema.properties[name] as JsonSchema,
          join(path, name),
          tell,
        );
        if (problem) return problem;
      }
    }
  }
  return undefined;
}

/** A schema's own message for a failure at `path`, if it has one. */
function told(schema: JsonSchema | undefined, path: string): SchemaProblem | undefined {
  const message = schema?.['x-message'];
  if (!message) return undefined;
  return {
    message: message.replaceAll('{path}', path),
    param: (schema['x-param'] ?? path).replaceAll('{path}', path),
  };
}

function matches(value: unknown, schema: JsonSchema): boolean {
  return firstProblem(value, schema, '', false) === undefined;
}

/** The keywords that judge the value itself, not its parts. */
function matchesOwn(value: unknown, schema: JsonSchema): boolean {
  if (schema.type !== undefined) {
    const types = typeof schema.type === 'string' ? [schema.type] : schema.type;
    if (!types.some((t) => isType(value, t))) return false;
  }
  if ('const' in schema && value !== schema.const) return false;
  if (schema.enum && !schema.enum.includes(value)) return false;
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) return false;
    if (schema.maximum !== undefined && value > schema.maximum) return false;
  }
  if (typeof value === 'string' && schema.minLength !== undefined && value.length < schema.minLength) {
    return false;
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) return false;
    if (schema.maxItems !== undefined && value.length > schema.maxItems) return false;
  }
  return true;
}

function isType(value: unknown, type: string): boolean {
  switch (type) {
    case 'null':
      return value === null;
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isObject(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    default:
      return typeof value === type;
  }
}

/** What a schema asks for, in words: "a number from 0 to 2", "one of user, assistant", "an array of up to 4 strings". */
export function expected(schema: JsonSchema): string {
  const alternatives = schema.oneOf ?? schema.anyOf;
  if (alternatives) {
    return alternatives
      .filter((s) => s.type !== 'null')
      .map(expected)
      .join(' or ');
  }
  if ('const' in schema) return JSON.stringify(schema.const);
  if (schema.enum) {
    const named = schema.enum.filter((v) => v !== null);
    return named.length === 1 ? JSON.stringify(named[0]) : `one of ${named.join(', ')}`;
  }
  const types = (typeof schema.type === 'string' ? [schema.type] : (schema.type ?? [])).filter(
    (t) => t !== 'null',
  );
  const type = types[0];
  if (type === 'number' || type === 'integer') {
    const noun = type === 'integer' ? 'an integer' : 'a number';
    const { minimum: min, maximum: max } = schema;
    if (min !== undefined && max !== undefined) return `${noun} from ${min} to ${max}`;
    return min !== undefined ? `${noun} of at least ${min}` : noun;
  }
  if (type === 'boolean') return 'true or false';
  if (type === 'string') return schema.minLength ? 'a non-empty string' : 'a string';
  if (type === 'array') {
    const of = schema.items ? plural(expected(schema.items)) : 'values';
    const { minItems: min, maxItems: max } = schema;
    if (max !== undefined) return `an array of ${min === max ? '' : 'up to '}${max} ${of}`;
    return min ? `a non-empty array of ${of}` : `an array of ${of}`;
  }
  if (type === 'object') return 'an object';
  return 'something else';
}

/** "a string" → "strings", "an object" → "objects"; anything else as it is. */
function plural(words: string): string {
  const match = /^an? (\w+)$/.exec(words);
  return match ? `${match[1]}s` : words;
}

/** How many characters of a refused value an answer quotes. */
export const SHOWN_CHARS = 100;

/** A refused value as JSON, cut short: the answer must not grow with a hostile body (a 6 MB Lambda response is the limit). */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? 'nothing';
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}… (${text.length} characters)` : text;
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}
