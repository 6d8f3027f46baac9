/**
 * The SageMaker Runtime wire format as the emulator answers it: the error types with their HTTP status and
 * `x-amzn-errortype`, ModelError's fields, and the AWS event-stream messages of a streamed invocation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';

export const ACCOUNT = '000000000000';
const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** The SageMaker Runtime errors the emulator answers, with their HTTP status. */
export const RUNTIME_ERRORS = {
  ValidationError: 400,
  ModelError: 424,
  ModelNotReadyException: 429,
  InternalFailure: 500,
  ServiceUnavailable: 503,
  InternalDependencyException: 530,
} as const;
export type RuntimeError = keyof typeof RUNTIME_ERRORS;

export class RuntimeFault extends Error {
  constructor(
    readonly type: RuntimeError,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function sendFault(res: ServerResponse, fault: RuntimeFault): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ ErrorCode: fault.type, Message: fault.message, ...fault.extra });
  res.writeHead(RUNTIME_ERRORS[fault.type], {
    'Content-Type': 'application/json',
    'x-amzn-errortype': fault.type,
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

export function logStream(name: string): string {
  return `arn:aws:logs:local:${ACCOUNT}:log-group:/aws/sagemaker/Endpoints/${name}`;
}

export async function collect(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A container answer other than 2xx is a ModelError carrying the original status and message. */
export async function modelError(name: string, response: IncomingMessage): Promise<RuntimeFault> {
  const original = (await collect(response)).toString('utf8').slice(0, 4096);
  return new RuntimeFault(
    'ModelError',
    `Received client error (${response.statusCode}) from primary with message "${original}". See ${logStream(name)} in account ${ACCOUNT} for more information.`,
    { OriginalStatusCode: response.statusCode, OriginalMessage: original, LogStreamArn: logStream(name) },
  );
}

/** One AWS event stream message. */
export function eventMessage(kind: 'PayloadPart', body: Uint8Array): Uint8Array;
export function eventMessage(
  kind: 'ModelStreamError' | 'InternalStreamFailure',
  body: Record<string, string>,
): Uint8Array;
export function eventMessage(kind: string, body: Uint8Array | Record<string, string>): Uint8Array {
  if (kind === 'PayloadPart') {
    return codec.encode({
      headers: {
        ':message-type': { type: 'string', value: 'event' },
        ':event-type': { type: 'string', value: 'PayloadPart' },
        ':content-type': { type: 'string', value: 'application/octet-stream' },
      },
      body: body as Uint8Array,
    });
  }
  return codec.encode({
    headers: {
      ':message-type': { type: 'string', value: 'exception' },
      ':exception-type': { type: 'string', value: kind },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: fromUtf8(JSON.stringify(body)),
  });
}
