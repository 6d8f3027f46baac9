/**
 * REST proxy event helpers for the functions: a JSON answer, a request's JSON body (a 400 when it is empty
 * or not JSON), and a header's value whatever its case.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { BadRequestError } from './errors.ts';

export function json(
  statusCode: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/**
 * Bodies already parsed by whoever built the event: the local gateway's request validator
 * parses each JSON body it checks, and {@link jsonBody} takes that value (once) instead of
 * parsing the text again. Deployed, API Gateway's validator cannot hand its parse over and
 * every body is parsed here.
 */
export const PARSED_BODIES = new WeakMap<object, unknown>();

/**
 * The JSON body of a proxy event.
 *
 * @param expected what the route wants, for the error message.
 * @throws BadRequestError when the body is absent or not JSON.
 */
export function jsonBody(
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>,
  expected: string,
): unknown {
  if (PARSED_BODIES.has(event)) {
    // Taken once: a second reading (a shadow's) parses its own copy.
    const parsed = PARSED_BODIES.get(event);
    PARSED_BODIES.delete(event);
    return parsed;
  }
  const raw =
    event.isBase64Encoded && event.body ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (raw === null || raw === undefined || raw.trim() === '') {
    throw new BadRequestError(`request body is empty; expected ${expected}`);
  }
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new BadRequestError(
      `request body is not valid JSON (${(error as Error).message}); expected ${expected}`,
    );
  }
}

/** A header's value, whatever its case. */
export function header(event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined {
  const headers = event.headers;
  if (!headers) return undefined;
  const exact = headers[name];
  if (exact !== undefined) return exact;
  const wanted = name.toLowerCase();
  for (const key in headers) {
    if (key.toLowerCase() === wanted && headers[key] !== undefined) return headers[key];
  }
  return undefined;
}
