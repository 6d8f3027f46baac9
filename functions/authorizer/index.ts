/**
 * The API's key authorizer (a Lambda REQUEST authorizer): hands API Gateway the request's API key, from
 * `x-api-key` or a bearer token, as the usage identifier that API Gateway then checks and meters.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { apiKeyOf } from '../core/auth.ts';

/**
 * REQUEST authorizer of the API: finds the API key in `x-api-key` or in a
 * bearer token and hands it to API Gateway as the usage identifier. API
 * Gateway then checks the key against the usage plans, throttles and meters it
 * as for `x-api-key` (API key source AUTHORIZER): an unknown or missing key is
 * still a 403 from API Gateway itself. The authorizer decides nothing else.
 */
export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const key = apiKeyOf(event.headers);
  return {
    principalId: 'api-key',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
    },
    ...(key !== undefined && { usageIdentifierKey: key }),
  };
}
