/**
 * The local gateway's buffered Lambda proxy integration: the handler invoked
 * under the integration timeout, its answer checked and written as API Gateway does.
 */
import type { ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { ProxyHandler } from './gateway.ts';

/** One invocation: its deadline, how to answer it before the handler does, whether it is answered. */
interface Call {
  readonly at: number;
  resolve: ((value: unknown) => void) | undefined;
  done: boolean;
}

/**
 * Invokes proxy handlers under one integration timeout. Every call has the
 * same timeout, so deadlines come in the order of the calls: one queue and
 * one timer, armed for the oldest call still running, serve them all (no
 * timer set and cleared per request).
 */
export class ProxyIntegration {
  private readonly calls: Call[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly timeoutMs: number) {}

  /**
   * The handler's answer; undefined when it threw; 'timeout' when the integration timeout passed first.
   * The handler starts in the event loop's check phase, not in the caller's turn: the requests read
   * together are parsed and checked together, then their handlers run together (see {@link later}).
   */
  invoke(handler: ProxyHandler, event: APIGatewayProxyEvent, context: Context): Promise<unknown> {
    return new Promise((resolve) => {
      const call: Call = { at: performance.now() + this.timeoutMs, resolve, done: false };
      this.calls.push(call);
      this.arm();
      const settle = (value: unknown) => {
        if (call.done) return;
        call.done = true;
        // A finished call may wait behind a slow one: it keeps no reference to its answer.
        call.resolve = undefined;
        resolve(value);
        this.dropFinished();
      };
      later(start, handler, event, context, settle);
    });
  }

  /** Drops finished calls from the front, answers those past their deadline, and waits for the next. */
  private expire = (): void => {
    this.timer = undefined;
    const now = performance.now();
    while (this.head < this.calls.length) {
      const call = this.calls[this.head] as Call;
      if (!call.done && call.at > now) break;
      if (!call.done) {
        call.done = true;
        call.resolve?.('timeout');
        call.resolve = undefined;
      }
      this.head++;
    }
    this.dropFinished();
    this.arm();
  };

  private arm(): void {
    if (this.timer || this.head >= this.calls.length) return;
    const first = this.calls[this.head] as Call;
    this.timer = setTimeout(this.expire, Math.max(0, first.at - performance.now()));
    this.timer.unref();
  }

  /** Forgets the answered calls at the front: the queue holds about the calls in flight. */
  private dropFinished(): void {
    while (this.head < this.calls.length && (this.calls[this.head] as { done: boolean }).done) this.head++;
    if (this.head === this.calls.length) {
      this.calls.length = 0;
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.calls.length) {
      this.calls.splice(0, this.head);
      this.head = 0;
    }
  }
}

/**
 * Runs `task` in the event loop's check phase, after the poll phase that is running now. The gateway
 * works in stages: Node's poll phase reads and parses every request that arrived together; the
 * handlers they go to run in the check phase that follows; their answers are written in the next one.
 * Each stage runs its code many times in a row instead of once between two trips through the
 * kernel's loopback TCP: the same syscalls, about half the CPU per request under load, most likely
 * because the stages keep their code and data in the processor's caches (bench/ANALYSIS.md). When
 * idle, a stage waits for nothing: the check phase follows the poll phase of the same turn.
 */
export const later: <A extends unknown[]>(task: (...args: A) => void, ...args: A) => void = setImmediate;

/**
 * Starts a handler. A synchronous throw settles its call as a thrown handler's does; so does a
 * handler that returns no promise (Lambda's Node.js runtime then waits for a callback this gateway
 * never passes, and the function answers nothing: API Gateway's 502).
 */
function start(
  handler: ProxyHandler,
  event: APIGatewayProxyEvent,
  context: Context,
  settle: (value: unknown) => void,
): void {
  let answer: unknown;
  try {
    answer = handler(event, context);
  } catch {
    settle(undefined);
    return;
  }
  if (typeof (answer as { then?: unknown } | undefined)?.then !== 'function') {
    settle(undefined);
    return;
  }
  (answer as Promise<unknown>).then(settle, () => settle(undefined));
}

/** What API Gateway accepts from a Lambda proxy integration. */
export function isProxyResult(value: unknown): value is APIGatewayProxyResult {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  if (!Number.isInteger(r.statusCode) || (r.statusCode as number) < 100 || (r.statusCode as number) > 599)
    return false;
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') return false;
  if (r.isBase64Encoded !== undefined && typeof r.isBase64Encoded !== 'boolean') return false;
  const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  if (r.headers !== undefined && r.headers !== null) {
    if (typeof r.headers !== 'object' || !Object.values(r.headers).every(scalar)) return false;
  }
  if (r.multiValueHeaders !== undefined && r.multiValueHeaders !== null) {
    if (typeof r.multiValueHeaders !== 'object') return false;
    if (!Object.values(r.multiValueHeaders).every((v) => Array.isArray(v) && v.every(scalar))) return false;
  }
  return true;
}

export function writeResult(res: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | string[]> = {};
  const single = result.headers;
  if (single) for (const name in single) headers[name] = String(single[name]);
  const multi = result.multiValueHeaders;
  if (multi) for (const name in multi) headers[name] = (multi[name] as unknown[]).map(String);
  if (result.isBase64Encoded && result.body) {
    const body = Buffer.from(result.body, 'base64');
    headers['Content-Length'] = String(body.length);
    res.writeHead(result.statusCode, headers);
    res.end(body);
    return;
  }
  // A string body goes out in the same write as the headers.
  const body = result.body ?? '';
  headers['Content-Length'] = String(Buffer.byteLength(body));
  res.writeHead(result.statusCode, headers);
  res.end(body);
}
