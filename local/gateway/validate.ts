/**
 * The subset of JSON Schema draft 4 that ModelGate's request models use
 * (type, required, properties, items, minItems, minimum), checked the way API
 * Gateway's request validator checks a body. Messages follow its wording.
 *
 * @returns the parsed value of a valid body, kept for the handler (`PARSED_BODIES`), else what is wrong.
 */
export function parseValid(text: string, schema: object): { value: unknown } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'body is not valid JSON' };
  }
  const problem = check(value, schema as Schema, '');
  return problem === undefined ? { value } : { problem };
}

interface Schema {
  type?: string;
  required?: readonly string[];
  properties?: Readonly<Record<string, Schema>>;
  items?: Schema;
  minItems?: number;
  minimum?: number;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function check(value: unknown, schema: Schema, at: string): string | undefined {
  const actual = typeOf(value);
  if (schema.type && !(actual === schema.type || (schema.type === 'number' && actual === 'integer'))) {
    return `instance type (${actual}) does not match any allowed primitive type (allowed: ["${schema.type}"]) at ${at || '/'}`;
  }
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    // Loops without a list or string made per node: every element of a body's arrays is checked.
    const required = schema.required;
    if (required?.some((name) => !(name in object))) {
      const missing = required.filter((name) => !(name in object));
      return `object has missing required properties (${JSON.stringify(missing)}) at ${at || '/'}`;
    }
    const properties = schema.properties;
    for (const name in properties) {
      if (name in object) {
        const problem = check(object[name], properties[name] as Schema, `${at}/${name}`);
        if (problem) return problem;
      }
    }
  }
  if (actual === 'array') {
    const array = value as unknown[];
    if (schema.minItems !== undefined && array.length < schema.minItems) {
      return `array is too short: must have at least ${schema.minItems} elements but instance has ${array.length} elements at ${at || '/'}`;
    }
    if (schema.items) {
      for (let i = 0; i < array.length; i++) {
        // The element's path is built only for its message.
        const problem = check(array[i], schema.items, '');
        if (problem) return check(array[i], schema.items, `${at}/${i}`);
      }
    }
  }
  if (schema.minimum !== undefined && typeof value === 'number' && value < schema.minimum) {
    return `numeric instance is lower than the required minimum (minimum: ${schema.minimum}, found: ${value}) at ${at}`;
  }
  return undefined;
}
