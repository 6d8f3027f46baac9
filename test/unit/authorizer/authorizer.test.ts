/**
 * The REQUEST authorizer on hand-built events: the key from x-api-key or a bearer token handed to API Gateway's
 * usage plans, none when there is none.
 */
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handler } from '../../../functions/authorizer/index.ts';
import { apiKeyOf } from '../../../functions/core/auth.ts';

const methodArn = 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/v1/chat/completions';
const event = (headers: Record<string, string>) =>
  ({ type: 'REQUEST', methodArn, headers }) as unknown as APIGatewayRequestAuthorizerEvent;

describe('key authorizer', () => {
  it('hands API Gateway the key from x-api-key or from a bearer token, for the usage plan to check', async () => {
    for (const headers of <Record<string, string>[]>[
      { 'x-api-key': 'k1' },
      { Authorization: 'Bearer k1' },
      { authorization: 'bearer   k1' },
    ]) {
      expect(await handler(event(headers))).toEqual({
        principalId: 'api-key',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: methodArn }],
        },
        usageIdentifierKey: 'k1',
      });
    }
  });

  it('returns no key when there is none, so API Gateway answers 403 as for a missing x-api-key', async () => {
    const result = await handler(event({ Authorization: 'Basic dXNlcjpwYXNz' }));
    expect(result.usageIdentifierKey).toBeUndefined();
  });

  it('prefers x-api-key when both are sent', () => {
    expect(apiKeyOf({ Authorization: 'Bearer b', 'X-Api-Key': 'a' })).toBe('a');
    expect(apiKeyOf(null)).toBeUndefined();
  });
});
