/**
 * Requests from the console to its own origin. The API key lives in memory and
 * sessionStorage only (never a URL or localStorage); signing out clears both.
 */
const STORE = 'modelgate.key';
let key: string | undefined = sessionStorage.getItem(STORE) ?? undefined;

export const session = {
  get key(): string | undefined {
    return key;
  },
  signIn(value: string): void {
    key = value;
    sessionStorage.setItem(STORE, value);
  },
  signOut(): void {
    key = undefined;
    sessionStorage.removeItem(STORE);
  },
};

/** The API's base: the folder the console page is served from (the stage on AWS). */
export const base = new URL('.', window.location.href);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The message of any ModelGate error shape: V2 {error}, OpenAI {error: {message}}, gateway {message}. */
export function errorMessage(body: unknown, status: number): string {
  const b = body as { error?: unknown; message?: unknown } | null;
  if (b && typeof b.error === 'string') return b.error;
  if (
    b &&
    typeof b.error === 'object' &&
    b.error &&
    typeof (b.error as { message?: unknown }).message === 'string'
  )
    return (b.error as { message: string }).message;
  if (b && typeof b.message === 'string') return b.message;
  return `HTTP ${status}`;
}

export function headers(json = false): Record<string, string> {
  return { ...(key && { 'x-api-key': key }), ...(json && { 'content-type': 'application/json' }) };
}

export async function call<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const response = await fetch(new URL(path, base), {
    method: init.method ?? 'GET',
    headers: headers(init.body !== undefined),
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (!response.ok) throw new ApiError(response.status, errorMessage(body, response.status));
  return body as T;
}
