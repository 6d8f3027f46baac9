/**
 * The gateway emulator: API Gateway's REST API on loopback, answering what API Gateway answers itself (keys,
 * usage plans, limits, validation) and handing the rest to the handlers as Lambda proxy events.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type RouteSpec, VERSION_HEADER } from '../../functions/api/routes.ts';
import { apiKeyOf } from '../../functions/core/auth.ts';
import type { Counters } from '../../functions/core/counters.ts';
import { PARSED_BODIES } from '../../functions/core/http.ts';
import type { StreamingHandler } from '../../functions/core/streaming.ts';
import { API_GATEWAY_LIMITS } from '../../infra/api-gateway-limits.ts';
import { type LoopbackServer, listenLoopback, readBody } from '../net.ts';
import { isStreamingHandler } from './lambda-runtime.ts';
import { headerValue, lambdaContext, send, sendInstead, toEvent } from './proxy-event.ts';
import { isProxyResult, later, ProxyIntegration, writeResult } from './proxy-integration.ts';
import { streamCut, streamInvoke } from './stream.ts';
import { type Plan, UsageMeter } from './usage-plans.ts';
import { parseValid } from './validate.ts';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<unknown>;

/** One REST resource+method and the Lambda proxy integration behind it. */
export interface GatewayRoute extends RouteSpec {
  /** A proxy handler, or a streaming one (`awslambda.streamifyResponse`), answered as it writes. */
  readonly handler: ProxyHandler | StreamingHandler;
  /** Body schema to validate `application/json` bodies against, as API Gateway's request validator does. */
  readonly schema?: object;
}

export interface GatewayOptions {
  readonly routes: readonly GatewayRoute[];
  /** API keys and the usage plan each belongs to. */
  readonly apiKeys: ReadonlyArray<{ readonly id: string; readonly value: string; readonly plan: Plan }>;
  readonly port: number;
  readonly stage?: string;
  /** Integration timeout of buffered (proxy) routes: API Gateway's 29 s by default. */
  readonly timeoutMs?: number;
  /** Integration timeout of streamed routes, over the whole answer: 15 minutes by default, API Gateway's most. */
  readonly streamTimeoutMs?: number;
  /** How long a streamed body may go without a byte: 5 minutes by default, as on a Regional endpoint. */
  readonly streamIdleTimeoutMs?: number;
  /** Largest request body (API Gateway: 10 MB). */
  readonly maxBodyBytes?: number;
  /** Function name reported in the Lambda context. */
  readonly functionName?: string;
  readonly now?: () => number;
  /** One line per answered request, in the spirit of API Gateway's CLF access log. */
  readonly accessLog?: (line: string) => void;
  /**
   * Serves `GET /metrics` (no key, loopback only) in the Prometheus text
   * format: the gateway's own request counters (what API Gateway reports as
   * Count, 4XXError, 5XXError, Latency) and these counters, the handlers'.
   */
  readonly metrics?: Counters;
}

export type LocalGateway = LoopbackServer;

export const GATEWAY_DEFAULTS = {
  timeoutMs: API_GATEWAY_LIMITS.bufferedTimeoutMs,
  streamTimeoutMs: API_GATEWAY_LIMITS.streamedTimeoutMaxMs,
  streamIdleTimeoutMs: API_GATEWAY_LIMITS.streamIdleTimeoutMs,
  maxBodyBytes: 10 * 1024 * 1024,
  stage: 'local',
} as const;

/** Lambda's synchronous invoke limits: the event, and the function's answer (100 bytes more). */
export const LAMBDA_LIMITS = { requestBytes: 6 * 1024 * 1024, responseBytes: 6 * 1024 * 1024 + 100 } as const;
const TOO_LARGE = { message: 'Request Too Large' };

/**
 * An API Gateway REST API on loopback: it answers what API Gateway answers
 * itself (unknown route, missing key, throttling, quota, oversized body,
 * invalid body, integration timeout, malformed integration response) and what
 * Lambda's invoke limits cause (event or answer over 6 MB), and hands
 * everything else to the Lambda handler as a REST proxy event (v1).
 */
export async function startGateway(options: GatewayOptions): Promise<LocalGateway> {
  const stage = options.stage ?? GATEWAY_DEFAULTS.stage;
  const timeoutMs = options.timeoutMs ?? GATEWAY_DEFAULTS.timeoutMs;
  const streamLimits = {
    timeoutMs: options.streamTimeoutMs ?? GATEWAY_DEFAULTS.streamTimeoutMs,
    idleTimeoutMs: options.streamIdleTimeoutMs ?? GATEWAY_DEFAULTS.streamIdleTimeoutMs,
  };
  const maxBodyBytes = options.maxBodyBytes ?? GATEWAY_DEFAULTS.maxBodyBytes;
  const now = options.now ?? Date.now;
  const meter = new UsageMeter(now);
  const keys = new Map(options.apiKeys.map((k) => [k.value, k]));
  const compiled = options.routes.map((route) => ({ route, ...compile(route.resource) }));
  const functionName = options.functionName ?? 'api';
  const served = options.metrics ? gatewaySeries(options.metrics) : undefined;
  const integration = new ProxyIntegration(timeoutMs);

  const server = createServer((req, res) => {
    const requestId = randomUUID();
    res.setHeader('x-amzn-RequestId', requestId);
    const url = requestUrl(req.url ?? '/');
    const path = url.pathname;
    if (options.metrics && req.method === 'GET' && path === '/metrics') {
      const text = options.metrics.render();
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      return res.end(text);
    }
    let found: (typeof compiled)[number] | undefined;
    let pathMatch: RegExpExecArray | null = null;
    for (const c of compiled) {
      if (c.route.method !== req.method) continue;
      pathMatch = c.regex.exec(path);
      if (pathMatch) {
        found = c;
        break;
      }
    }
    // The key comes as x-api-key or, from OpenAI clients, as a bearer token (the API's authorizer does the same).
    const apiKey = keyOf(req.headers);
    const key = apiKey === undefined ? undefined : keys.get(apiKey);
    if (options.metrics || options.accessLog) {
      const started = performance.now();
      res.on('close', () => {
        const ms = performance.now() - started;
        const resource = found?.route.resource ?? 'unmatched';
        // 499: the client went away; 504: the gateway cut a stream at a limit (after its status went out).
        const code = res.writableFinished ? String(res.statusCode) : streamCut(res) ? '504' : '499';
        served?.(req.method ?? '', resource, code, ms);
        options.accessLog?.(
          accessLine(req, res, { requestId, code, ms, keyId: key?.id ?? '-', when: new Date(now()) }),
        );
      });
    }
    if (!found || !pathMatch) {
      // API Gateway's answer for a resource or method it does not have.
      return drainThen(req, () => send(res, 403, { message: 'Missing Authentication Token' }));
    }
    const route = found.route;
    if (route.apiKeyRequired) {
      if (!key) return drainThen(req, () => send(res, 403, { message: 'Forbidden' }));
      const verdict = meter.admit(key.id, key.plan);
      if (verdict === 'throttled')
        return drainThen(req, () => send(res, 429, { message: 'Too Many Requests' }));
      if (verdict === 'quota') return drainThen(req, () => send(res, 429, { message: 'Limit Exceeded' }));
    }

    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBodyBytes) {
      return drainThen(req, () => send(res, 413, TOO_LARGE, { Connection: 'close' }));
    }
    readBody(req, maxBodyBytes).then(
      async (body) => {
        if (body === undefined) {
          return send(res, 413, TOO_LARGE, { Connection: 'close' });
        }
        const contentType = headerValue(req, 'content-type') ?? 'application/json';
        let parsed: { value: unknown } | undefined;
        if (route.schema && contentType.startsWith('application/json')) {
          const checked = parseValid(body.toString('utf8'), route.schema);
          if ('problem' in checked)
            return send(res, 400, { error: `invalid request body: ${checked.problem}` });
          parsed = checked;
        }
        const event = toEvent(req, url, route.resource, found.names, pathMatch, body, {
          requestId,
          stage,
          apiKeyId: route.apiKeyRequired ? key?.id : undefined,
          apiKey: route.apiKeyRequired ? apiKey : undefined,
          now: now(),
        });
        // Lambda refuses an event over its invoke limit before the function runs.
        if (overLimit(event, event.body?.length ?? 0, LAMBDA_LIMITS.requestBytes)) {
          return send(res, 413, TOO_LARGE);
        }
        // The handler takes the validator's parse instead of parsing the body again.
        if (parsed) PARSED_BODIES.set(event, parsed.value);
        if (isStreamingHandler(route.handler)) {
          const context = lambdaContext(requestId, streamLimits.timeoutMs, functionName);
          return streamInvoke(route.handler, event, context, res, streamLimits);
        }
        const context = lambdaContext(requestId, timeoutMs, functionName);
        const result = await integration.invoke(route.handler as ProxyHandler, event, context);
        if (result === 'timeout') return send(res, 504, { message: 'Endpoint request timed out' });
        if (
          !isProxyResult(result) ||
          overLimit(result, result.body?.length ?? 0, LAMBDA_LIMITS.responseBytes)
        ) {
          return send(res, 502, { message: 'Internal server error' });
        }
        // Written with the other answers of this turn (see `later`).
        later(answer, res, result);
      },
      () => send(res, 400, { message: 'Bad request' }),
    );
  });

  return listenLoopback(server, options.port);
}

/**
 * Writes a handler's answer; one Node cannot write (a header name or value with characters HTTP
 * forbids) is a malformed integration response, API Gateway's 502.
 */
function answer(res: ServerResponse, result: APIGatewayProxyResult): void {
  try {
    writeResult(res, result);
  } catch {
    sendInstead(res, 502, { message: 'Internal server error' });
  }
}

/** `ip keyId [time] "METHOD /path HTTP/1.1" status bytes ms version requestId`. */
function accessLine(
  req: IncomingMessage,
  res: ServerResponse,
  at: { requestId: string; code: string; ms: number; keyId: string; when: Date },
): string {
  const bytes = res.getHeader('content-length') ?? '-';
  const version = res.getHeader(VERSION_HEADER) ?? '-';
  return `${req.socket.remoteAddress ?? '-'} ${at.keyId} [${at.when.toISOString()}] "${req.method} ${req.url} HTTP/${req.httpVersion}" ${at.code} ${bytes} ${at.ms.toFixed(1)}ms v=${version} ${at.requestId}`;
}

/**
 * The request target as `new URL` reads it, without building one for the
 * common plain path (no query, escapes, dot segments or backslashes).
 */
function requestUrl(target: string): Pick<URL, 'pathname' | 'searchParams'> {
  if (/^\/[A-Za-z0-9_~\-/]*$/.test(target) && !target.includes('//')) {
    return { pathname: target, searchParams: EMPTY_QUERY };
  }
  return new URL(target, 'http://localhost');
}
const EMPTY_QUERY = new URLSearchParams();

/** {@link apiKeyOf} over Node's request headers, whose names are already lower case. */
function keyOf(headers: IncomingMessage['headers']): string | undefined {
  const key = headers['x-api-key'];
  if (typeof key === 'string' && key) return key;
  const authorization = headers.authorization;
  return authorization === undefined ? undefined : apiKeyOf({ authorization });
}

/** Records one answered request in the gateway's counters; each series is looked up once. */
function gatewaySeries(metrics: Counters) {
  const handles = new Map<string, { count: { inc(): void }; time: { observe(ms: number): void } }>();
  return (method: string, resource: string, code: string, ms: number) => {
    const id = `${method} ${resource} ${code}`;
    let handle = handles.get(id);
    if (!handle) {
      handle = {
        count: metrics.counter(
          'modelgate_gateway_requests_total',
          'Requests the gateway answered, by method, resource and status code (499: the client went away; 504 also counts streams cut at a limit).',
          { method, resource, code },
        ),
        time: metrics.histogram(
          'modelgate_gateway_request_duration_seconds',
          'Time from request to the last byte of the answer.',
          { method, resource },
        ),
      };
      handles.set(id, handle);
    }
    handle.count.inc();
    handle.time.observe(ms);
  };
}

function compile(resource: string) {
  const pattern = resource.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '([^/]+)');
  return {
    regex: new RegExp(`^${pattern}/?$`),
    names: [...resource.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string),
  };
}

/**
 * Whether a JSON payload (an event, a function's answer) passes Lambda's
 * limit. Exact only near the limit: serializing every event to measure it
 * would cost more than the rest of the gateway.
 */
function overLimit(payload: unknown, bodyChars: number, limit: number): boolean {
  // A body's characters are at most 3 bytes each once serialized (6 with escapes); the rest is small.
  if (bodyChars * 6 + 64 * 1024 < limit) return false;
  return Buffer.byteLength(JSON.stringify(payload)) > limit;
}

function drainThen(req: IncomingMessage, answer: () => void): void {
  req.resume();
  answer();
}
