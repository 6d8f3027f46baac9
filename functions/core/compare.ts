/** Response fields that name who answered rather than what was answered. */
const IDENTITY_FIELDS = new Set(['model_name', 'model_version', 'id']);

/**
 * Whether two answers to the same request say the same thing: equal
 * structure, equal strings and booleans, numbers equal within a relative
 * `tolerance` (float32 models retrained or re-exported differ in the last
 * bits). Fields naming the model, its version and the request id are ignored.
 *
 * @example
 * sameAnswer({ model_version: '3', predictions: [1.0000001] }, { model_version: '4', predictions: [1] }) // true
 */
export function sameAnswer(a: unknown, b: unknown, tolerance = 1e-5): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
    return Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameAnswer(item, b[i], tolerance));
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = (o: object) => Object.keys(o).filter((k) => !IDENTITY_FIELDS.has(k));
    const ka = keys(a);
    if (ka.length !== keys(b).length) return false;
    return ka.every(
      (k) =>
        k in b && sameAnswer((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], tolerance),
    );
  }
  return a === b;
}
