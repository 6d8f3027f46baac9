/**
 * Lambda response streaming: the `awslambda` global of the Node.js Lambda runtime, which the chat function
 * streams through, and the types of a streaming handler.
 */
import type { Writable } from 'node:stream';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

/** Status and headers of a streamed HTTP answer, written before its body. */
export interface HttpResponseMetadata {
  readonly statusCode: number;
  readonly headers?: Record<string, string>;
}

/** A handler written for Lambda response streaming. */
export type StreamingHandler = (
  event: APIGatewayProxyEvent,
  responseStream: Writable,
  context?: Context,
) => Promise<void>;

/**
 * The `awslambda` global of the Node.js Lambda runtime, for response
 * streaming. Local mode installs the same two functions (local/gateway/lambda-runtime.ts).
 */
export interface LambdaStreamingRuntime {
  streamifyResponse(handler: StreamingHandler): StreamingHandler;
  HttpResponseStream: { from(stream: Writable, metadata: HttpResponseMetadata): Writable };
}

/** The runtime's `awslambda` (declared by @types/aws-lambda), or a clear failure where there is none. */
export function lambdaStreaming(): LambdaStreamingRuntime {
  const runtime = (globalThis as unknown as { awslambda?: LambdaStreamingRuntime }).awslambda;
  if (!runtime?.streamifyResponse || !runtime.HttpResponseStream) {
    throw new Error(
      'awslambda is not defined: response streaming needs the Lambda Node.js runtime or local mode',
    );
  }
  return runtime;
}
