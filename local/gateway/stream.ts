/**
 * The local gateway's response-streaming integration (transfer mode STREAM), with API Gateway's
 * limits on a stream: the integration timeout over the whole answer, the idle timeout between bytes.
 */
import type { ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { StreamingHandler } from '../../functions/core/streaming.ts';
import { PRELUDE_DELIMITER } from './lambda-runtime.ts';
import { sendInstead } from './proxy-event.ts';

export interface StreamLimits {
  /** The integration timeout: how long the whole answer may take, first byte to last. */
  readonly timeoutMs: number;
  /** The idle timeout: how long the streamed body may go without a byte. */
  readonly idleTimeoutMs: number;
}

/** Why the gateway cut a stream it had started, by response. */
const cuts = new WeakMap<ServerResponse, 'timeout' | 'idle'>();

/** Whether the gateway cut this answer after its status went out, and why. */
export function streamCut(res: ServerResponse): 'timeout' | 'idle' | undefined {
  return cuts.get(res);
}

/**
 * Runs a streaming handler: the function writes a JSON prelude (status, headers) and eight NUL
 * bytes, then the body, which reaches the client as it is written. A client that goes away closes
 * the function's stream.
 *
 * Limits, as API Gateway applies them to a streamed integration: before the prelude arrives, the
 * integration timeout answers 504 `Endpoint request timed out` as for a buffered integration.
 * Once the status went out nothing can be answered any more, so passing the integration timeout,
 * or the idle timeout between two writes of the body, closes the connection without ending the
 * chunked body: the client sees a truncated transfer (curl: `(18) transfer closed with
 * outstanding read data remaining`), and the function's stream is closed.
 */
export function streamInvoke(
  handler: StreamingHandler,
  event: APIGatewayProxyEvent,
  context: Context,
  res: ServerResponse,
  limits: StreamLimits,
): void {
  const responseStream = new PassThrough();
  let prelude = Buffer.alloc(0);
  let started = false;
  let idle: NodeJS.Timeout | undefined;
  const stopTimers = () => {
    clearTimeout(deadline);
    clearTimeout(idle);
  };
  const fail = (status: number, message: string) => {
    stopTimers();
    // Before the status went out an answer replaces the function's; after it, the connection closes.
    sendInstead(res, status, { message });
    responseStream.destroy();
  };
  const cut = (why: 'timeout' | 'idle') => {
    stopTimers();
    cuts.set(res, why);
    res.destroy();
    responseStream.destroy();
  };
  const deadline = setTimeout(() => {
    if (started) cut('timeout');
    else fail(504, 'Endpoint request timed out');
  }, limits.timeoutMs);
  const active = () => {
    clearTimeout(idle);
    idle = setTimeout(cut, limits.idleTimeoutMs, 'idle');
  };
  res.on('close', () => {
    stopTimers();
    if (!res.writableFinished) responseStream.destroy();
  });
  responseStream.on('data', (chunk: Buffer) => {
    if (started) {
      active();
      if (!res.write(chunk)) {
        responseStream.pause();
        res.once('drain', () => responseStream.resume());
      }
      return;
    }
    prelude = Buffer.concat([prelude, chunk]);
    const at = prelude.indexOf(PRELUDE_DELIMITER);
    if (at < 0) return;
    let metadata: { statusCode?: number; headers?: Record<string, string> };
    try {
      metadata = JSON.parse(prelude.subarray(0, at).toString('utf8'));
    } catch {
      return fail(502, 'Internal server error');
    }
    try {
      res.writeHead(metadata.statusCode ?? 200, metadata.headers ?? {});
    } catch {
      // A header HTTP forbids: a malformed integration response, as in a buffered answer.
      return fail(502, 'Internal server error');
    }
    started = true;
    active();
    const rest = prelude.subarray(at + PRELUDE_DELIMITER.length);
    if (rest.length > 0) res.write(rest);
  });
  responseStream.on('end', () => {
    stopTimers();
    if (started) res.end();
    else fail(502, 'Internal server error');
  });
  let running: unknown;
  try {
    running = handler(event, responseStream, context);
  } catch {
    fail(502, 'Internal server error');
    return;
  }
  Promise.resolve(running).then(
    () => {
      if (!responseStream.writableEnded) responseStream.end();
    },
    () => fail(502, 'Internal server error'),
  );
}
