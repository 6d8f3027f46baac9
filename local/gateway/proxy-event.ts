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
  url: Pick<URL, 'pathname' | 'searchParams'>,
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
      requestTime: isoTime(ctx.now),
      requestTimeEpoch: ctx.now,
      resourceId: 'local',
      resourcePath: resource,
      stage: ctx.stage,
    },
  };
}

/** `toISOString` of a time, kept for the millisecond: requests under load share it. */
let lastTime = { ms: Number.NaN, iso: '' };
function isoTime(ms: number): string {
  if (ms !== lastTime.ms) lastTime = { ms, iso: new Date(ms).toISOString() };
  return lastTime.iso;
}

function safeDecode(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function lambdaContext(requestId: string, timeoutMs: number, functionName: string): Context {
  return new LambdaContext(requestId, Date.now() + timeoutMs, functionName);
}

/** A Lambda context; its methods on the prototype, so a request makes one object, not five closures. */
class LambdaContext implements Context {
  callbackWaitsForEmptyEventLoop = false;
  readonly functionVersion = '$LATEST';
  readonly memoryLimitInMB = '2048';
  readonly logStreamName = 'local';

  readonly invokedFunctionArn: string;
  readonly logGroupName: string;

  constructor(
    readonly awsRequestId: string,
    private readonly deadline: number,
    readonly functionName: string,
  ) {
    this.invokedFunctionArn = `arn:aws:lambda:local:000000000000:function:${functionName}`;
    this.logGroupName = `/aws/lambda/${functionName}`;
  }

  getRemainingTimeInMillis(): number {
    return Math.max(0, this.deadline - Date.now());
  }

  done(): void {}
  fail(): void {}
  succeed(): void {}
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

/**
 * Answers `status` in place of a function's answer that Node could not write (`writeHead` threw on
 * a header): drops the headers it stored before the bad one and its reason phrase, keeping the
 * request id; once the status line went out, only closing the connection is left.
 */
export function sendInstead(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const name of res.getHeaderNames()) if (name !== 'x-amzn-requestid') res.removeHeader(name);
  res.statusMessage = '';
  send(res, status, body);
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
