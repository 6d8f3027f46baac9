/**
 * Lambda response streaming in local mode: the `awslambda` global the Node.js Lambda runtime provides,
 * installed so the chat handler streams on loopback as it does in Lambda.
 */
import type { Writable } from 'node:stream';
import type {
  HttpResponseMetadata,
  LambdaStreamingRuntime,
  StreamingHandler,
} from '../../functions/core/streaming.ts';

/** Between the JSON prelude of a streamed answer and its body, as the Lambda runtime writes it. */
export const PRELUDE_DELIMITER = Buffer.alloc(8);
const STREAMING = Symbol.for('modelgate.streaming');

/**
 * Installs the `awslambda` global the Node.js Lambda runtime provides for
 * response streaming: `streamifyResponse` marks a handler as streaming,
 * `HttpResponseStream.from` writes the status and headers as a JSON prelude
 * and eight NUL bytes before the body, as the runtime does for API Gateway.
 */
export function installLambdaStreamingRuntime(): void {
  const runtime: LambdaStreamingRuntime = {
    streamifyResponse(handler: StreamingHandler): StreamingHandler {
      Object.defineProperty(handler, STREAMING, { value: true });
      return handler;
    },
    HttpResponseStream: {
      from(stream: Writable, metadata: HttpResponseMetadata): Writable {
        stream.write(JSON.stringify(metadata));
        stream.write(PRELUDE_DELIMITER);
        return stream;
      },
    },
  };
  // Other libraries (Powertools' invoke store) may have created the global already: complete it.
  const global = globalThis as unknown as { awslambda?: Partial<LambdaStreamingRuntime> };
  global.awslambda ??= {};
  global.awslambda.streamifyResponse ??= runtime.streamifyResponse;
  global.awslambda.HttpResponseStream ??= runtime.HttpResponseStream;
}

export function isStreamingHandler(handler: unknown): handler is StreamingHandler {
  return typeof handler === 'function' && (handler as unknown as Record<symbol, unknown>)[STREAMING] === true;
}
