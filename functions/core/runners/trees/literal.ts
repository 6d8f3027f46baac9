/**
 * A number of the model written into generated source so that it reads back as the same value
 * (NaN, ±Infinity and -0 included).
 */
export function literal(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return Object.is(value, -0) ? '-0' : String(value);
}
