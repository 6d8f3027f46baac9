/**
 * The API key of a request: the `x-api-key` header, or the token of an
 * `Authorization: Bearer` header, which is how OpenAI clients send it.
 */
export function apiKeyOf(
  headers: Readonly<Record<string, string | undefined>> | null | undefined,
): string | undefined {
  let bearer: string | undefined;
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower === 'x-api-key' && value) return value;
    if (lower === 'authorization' && value) bearer = /^Bearer\s+(\S+)$/i.exec(value)?.[1];
  }
  return bearer;
}
