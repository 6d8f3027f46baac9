/** Who is calling: the API key of a request (x-api-key or a bearer token) and the key id API Gateway matched it to. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ModelGateError } from './errors.ts';

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

type Caller = Pick<APIGatewayProxyEvent, 'requestContext'>;

/**
 * The id of the API key API Gateway matched for a request
 * (`requestContext.identity.apiKeyId`, set on methods that require a key),
 * or undefined on keyless routes.
 */
export function callerKey(event: Caller): string | undefined {
  return event.requestContext?.identity?.apiKeyId ?? undefined;
}

/** The caller's key id, for what belongs to a key (its usage, its batch jobs). @throws 403 without one. */
export function requireCaller(event: Caller, what: string): string {
  const keyId = callerKey(event);
  if (!keyId) throw new ModelGateError(`${what} belong to an API key: send one`, 403);
  return keyId;
}
