/**
 * What the local gateway hands a Lambda handler (API Gateway's REST proxy event v1 and a Lambda
 * context) and how it answers by itself (a JSON body, as API Gateway's own answers are).
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function toEvent(
  req: IncomingMessage,
  url: URL,
  resource: string,
  names: readonly string[],
  match: RegExpExecArray,
  body: Buffer,
  ctx: {
    requestId: string;
    stage: string;
    apiKeyId?: string | undefined;
    apiKey?: string | undefined;
    now: number;
  },
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value;
    const values = multiValueHeaders[name];
    if (values) values.push(value);
    else multiValueHeaders[name] = [value];
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    multiQuery[name] = [...(multiQuery[name] ?? []), value];
  }
  const pathParameters: Record<string, string> = {};
  names.forEach((name, i) => {
    pathParameters[name] = safeDecode(match[i + 1] as string);
  });
  const text = body.toString('utf8');
  const binary = body.length > 0 && !isUtf8(body);
  const method = req.method ?? 'GET';
  const sourceIp = req.socket.remoteAddress ?? '127.0.0.1';
  return {
    resource,
    path: url.pathname,
    httpMethod: method,
    headers,
    multiValueHeaders,
    queryStringParameters: url.searchParams.size > 0 ? query : null,
    multiValueQueryStringParameters: url.searchParams.size > 0 ? multiQuery : null,
    pathParameters: names.length > 0 ? pathParameters : null,
    stageVariables: null,
    body: body.length === 0 ? null : binary ? body.toString('base64') : text,
    isBase64Encoded: binary,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      domainName: headers.Host ?? headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      extendedRequestId: ctx.requestId,
      httpMethod: method,
      identity: restIdentity({
        apiKey: ctx.apiKey ?? null,
        apiKeyId: ctx.apiKeyId ?? null,
        sourceIp,
        userAgent: headerValue(req, 'user-agent') ?? null,
      }),
      path: `/${ctx.stage}${url.pathname}`,
      protocol: `HTTP/${req.httpVersion}`,
      requestId: ctx.requestId,
      requestTime: new Date(ctx.now).toISOString(),
      requestTimeEpoch: ctx.now,
      resourceId: 'local',
      resourcePath: resource,
      stage: ctx.stage,
    },
  };
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function lambdaContext(requestId: string, timeoutMs: number, functionName: string): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '2048',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** A JSON answer of the gateway's own (403, 429, 413, 502, 504). */
export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** The `requestContext.identity` of a REST proxy event: the caller's key, address and agent; the IAM and Cognito fields API Gateway leaves null for a key-authorized call. */
export function restIdentity(caller: {
  apiKey: string | null;
  apiKeyId: string | null;
  sourceIp: string;
  userAgent: string | null;
}): APIGatewayProxyEvent['requestContext']['identity'] {
  return {
    accessKey: null,
    accountId: null,
    apiKey: caller.apiKey,
    apiKeyId: caller.apiKeyId,
    caller: null,
    clientCert: null,
    cognitoAuthenticationProvider: null,
    cognitoAuthenticationType: null,
    cognitoIdentityId: null,
    cognitoIdentityPoolId: null,
    principalOrgId: null,
    sourceIp: caller.sourceIp,
    user: null,
    userAgent: caller.userAgent,
    userArn: null,
  };
}
