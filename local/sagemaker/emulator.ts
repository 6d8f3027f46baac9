/**
 * The SageMaker Runtime emulator: InvokeEndpoint and its streamed and async forms on loopback, each endpoint
 * forwarded to a local container's `/invocations`, with SageMaker's errors; inference components and their cold start.
 */
import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { PRODUCTION_VARIANT } from '../../infra/gpu-containers.ts';
import { listenLoopback, readBody } from '../net.ts';
import { componentRefusal, INFERENCE_COMPONENT_HEADER } from './components.ts';

/** Where an emulated endpoint sends its traffic: a process following the SageMaker container contract. */
export interface EndpointTarget {
  /** Base URL of the container (`GET /ping`, `POST /invocations`). */
  readonly url: string;
  /** False while the container starts or restarts: invocations get ModelNotReadyException. */
  readonly healthy: () => boolean;
  readonly variant?: string;
  /** The endpoint hosts this inference component: invocations must name it. */
  readonly component?: string;
  /**
   * The component starts at zero copies: requests get SageMaker's no-capacity ValidationError
   * until this long after the first of them (a scale-out from zero), then are served.
   */
  readonly coldStartMs?: number;
}

export interface SageMakerEmulatorOptions {
  readonly port: number;
  readonly endpoints: ReadonlyMap<string, EndpointTarget>;
  /** For InvokeEndpointAsync: reads inputs, writes outputs and failures. */
  readonly s3?: S3Client;
  /** `s3://bucket/prefix` under which async outputs and failures are written. */
  readonly asyncOutput?: { readonly bucket: string; readonly prefix: string };
  /** A container must answer within this (SageMaker: 60 s). */
  readonly invocationTimeoutMs?: number;
  /**
   * SageMaker-side failures to answer for an endpoint, for the errors no
   * container can cause (InternalFailure, ServiceUnavailable, ...).
   */
  readonly faults?: ReadonlyMap<string, RuntimeError>;
}

/** Largest request and response body of InvokeEndpoint. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const ACCOUNT = '000000000000';
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

class RuntimeFault extends Error {
  constructor(
    readonly type: RuntimeError,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/**
 * SageMaker Runtime on loopback: InvokeEndpoint, InvokeEndpointWithResponseStream
 * (AWS event stream framing) and InvokeEndpointAsync, with SageMaker's error
 * types and headers, so the AWS SDK and boto3 work against it unmodified.
 * Each endpoint forwards to a container's `/invocations`.
 */
export async function startSageMakerEmulator(options: SageMakerEmulatorOptions) {
  const timeoutMs = options.invocationTimeoutMs ?? 60_000;
  const server = createServer((req, res) => {
    const requestId = randomUUID();
    res.setHeader('x-amzn-RequestId', requestId);
    const match = /^\/endpoints\/([^/]+)\/(invocations|invocations-response-stream|async-invocations)$/.exec(
      new URL(req.url ?? '/', 'http://localhost').pathname,
    );
    readBody(req).then(async (read) => {
      const body = read ?? Buffer.alloc(0);
      try {
        if (req.method !== 'POST' || !match)
          throw new RuntimeFault('ValidationError', `unknown operation ${req.method} ${req.url}`);
        const name = decodeURIComponent(match[1] as string);
        const target = options.endpoints.get(name);
        if (!target) {
          throw new RuntimeFault('ValidationError', `Endpoint ${name} of account ${ACCOUNT} not found.`);
        }
        const fault = options.faults?.get(name);
        if (fault) throw new RuntimeFault(fault, `${fault} (injected) for endpoint ${name}.`);
        const refusal = componentRefusal(name, target, req.headers[INFERENCE_COMPONENT_HEADER]);
        if (refusal) throw new RuntimeFault('ValidationError', refusal);
        if (!target.healthy()) {
          throw new RuntimeFault(
            'ModelNotReadyException',
            `Model for endpoint ${name} is not ready; retry shortly.`,
          );
        }
        if (body.length > MAX_PAYLOAD_BYTES) {
          throw new RuntimeFault(
            'ValidationError',
            `Request body is ${body.length} bytes; the limit is ${MAX_PAYLOAD_BYTES}.`,
          );
        }
        const variant = target.variant ?? PRODUCTION_VARIANT;
        if (match[2] === 'invocations') return await invoke(name, target, variant, req, res, body, timeoutMs);
        if (match[2] === 'invocations-response-stream')
          return await invokeStream(name, target, variant, req, res, body, timeoutMs);
        return await invokeAsync(name, target, req, res, options, timeoutMs);
      } catch (error) {
        sendFault(
          res,
          error instanceof RuntimeFault ? error : new RuntimeFault('InternalFailure', 'internal failure'),
        );
      }
    });
  });
  return listenLoopback(server, options.port);
}

function sendFault(res: ServerResponse, fault: RuntimeFault): void {
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

/** Headers SageMaker forwards to the container. */
function forwarded(req: IncomingMessage, accept: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': (req.headers['content-type'] as string | undefined) ?? 'application/octet-stream',
  };
  if (accept) headers.Accept = accept;
  const custom = req.headers['x-amzn-sagemaker-custom-attributes'];
  if (typeof custom === 'string') headers['X-Amzn-SageMaker-Custom-Attributes'] = custom;
  return headers;
}

/** POSTs to the container; resolves with its response once headers arrive. */
function callContainer(
  target: EndpointTarget,
  name: string,
  headers: Record<string, string>,
  body: Buffer,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const upstream = httpRequest(`${target.url}/invocations`, { method: 'POST', headers, signal }, resolve);
    upstream.setTimeout(timeoutMs, () =>
      upstream.destroy(
        new RuntimeFault(
          'ModelError',
          `Your invocation timed out while waiting for a response from container primary.`,
          {
            OriginalStatusCode: 0,
            LogStreamArn: logStream(name),
          },
        ),
      ),
    );
    upstream.on('error', (error) =>
      reject(
        error instanceof RuntimeFault
          ? error
          : new RuntimeFault(
              'ModelError',
              `Received server error (0) from primary with message "${error.message}".`,
              {
                OriginalStatusCode: 0,
                OriginalMessage: error.message,
                LogStreamArn: logStream(name),
              },
            ),
      ),
    );
    upstream.end(body);
  });
}

function logStream(name: string): string {
  return `arn:aws:logs:local:${ACCOUNT}:log-group:/aws/sagemaker/Endpoints/${name}`;
}

async function collect(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A container answer other than 2xx is a ModelError carrying the original status and message. */
async function modelError(name: string, response: IncomingMessage): Promise<RuntimeFault> {
  const original = (await collect(response)).toString('utf8').slice(0, 4096);
  return new RuntimeFault(
    'ModelError',
    `Received client error (${response.statusCode}) from primary with message "${original}". See ${logStream(name)} in account ${ACCOUNT} for more information.`,
    { OriginalStatusCode: response.statusCode, OriginalMessage: original, LogStreamArn: logStream(name) },
  );
}

async function invoke(
  name: string,
  target: EndpointTarget,
  variant: string,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  timeoutMs: number,
): Promise<void> {
  const response = await callContainer(target, name, forwarded(req, req.headers.accept), body, timeoutMs);
  if ((response.statusCode ?? 500) >= 300) throw await modelError(name, response);
  const answer = await collect(response);
  if (answer.length > MAX_PAYLOAD_BYTES) {
    throw new RuntimeFault(
      'ModelError',
      `Response body of ${answer.length} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit.`,
    );
  }
  const headers: Record<string, string | number> = {
    'Content-Type': response.headers['content-type'] ?? 'application/octet-stream',
    'x-Amzn-Invoked-Production-Variant': variant,
    'Content-Length': answer.length,
  };
  const custom = response.headers['x-amzn-sagemaker-custom-attributes'];
  if (typeof custom === 'string') headers['X-Amzn-SageMaker-Custom-Attributes'] = custom;
  res.writeHead(200, headers);
  res.end(answer);
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

async function invokeStream(
  name: string,
  target: EndpointTarget,
  variant: string,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  timeoutMs: number,
): Promise<void> {
  const aborter = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) aborter.abort();
  });
  const accept = req.headers['x-amzn-sagemaker-accept'] as string | undefined;
  const response = await callContainer(target, name, forwarded(req, accept), body, timeoutMs, aborter.signal);
  if ((response.statusCode ?? 500) >= 300) throw await modelError(name, response);
  res.writeHead(200, {
    'Content-Type': 'application/vnd.amazon.eventstream',
    'X-Amzn-SageMaker-Content-Type': response.headers['content-type'] ?? 'application/octet-stream',
    'x-Amzn-Invoked-Production-Variant': variant,
  });
  try {
    for await (const chunk of response) res.write(eventMessage('PayloadPart', chunk as Buffer));
    if (!response.complete) throw new Error('container closed the stream early');
  } catch (error) {
    if (aborter.signal.aborted) return;
    res.write(
      eventMessage('ModelStreamError', {
        Message: `Model stream failed: ${(error as Error).message}`,
        ErrorCode: 'ModelStreamError',
      }),
    );
  }
  res.end();
}

function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return match ? { bucket: match[1] as string, key: match[2] as string } : undefined;
}

async function invokeAsync(
  name: string,
  target: EndpointTarget,
  req: IncomingMessage,
  res: ServerResponse,
  options: SageMakerEmulatorOptions,
  timeoutMs: number,
): Promise<void> {
  const location = req.headers['x-amzn-sagemaker-inputlocation'];
  const input = typeof location === 'string' ? parseS3Uri(location) : undefined;
  if (!input) {
    throw new RuntimeFault(
      'ValidationError',
      'X-Amzn-SageMaker-InputLocation must be an S3 URI, s3://bucket/key.',
    );
  }
  const { s3, asyncOutput } = options;
  if (!s3 || !asyncOutput)
    throw new RuntimeFault('ValidationError', `Endpoint ${name} has no async inference configuration.`);
  const id = (req.headers['x-amzn-sagemaker-inference-id'] as string | undefined) ?? randomUUID();
  const output = { bucket: asyncOutput.bucket, key: `${asyncOutput.prefix}${name}/output/${id}.out` };
  const failure = { bucket: asyncOutput.bucket, key: `${asyncOutput.prefix}${name}/failure/${id}.out` };
  const uri = (o: { bucket: string; key: string }) => `s3://${o.bucket}/${o.key}`;
  const contentType =
    (req.headers['x-amzn-sagemaker-content-type'] as string | undefined) ?? 'application/octet-stream';
  const accept = req.headers['x-amzn-sagemaker-accept'] as string | undefined;
  const invocationTimeout =
    Number(req.headers['x-amzn-sagemaker-invocationtimeoutseconds'] ?? 0) * 1000 || timeoutMs;

  const body = JSON.stringify({ InferenceId: id });
  res.writeHead(202, {
    'Content-Type': 'application/json',
    'X-Amzn-SageMaker-OutputLocation': uri(output),
    'X-Amzn-SageMaker-FailureLocation': uri(failure),
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);

  // The work happens after the answer, as on SageMaker.
  void (async () => {
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: input.bucket, Key: input.key }));
      const payload = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
      const headers: Record<string, string> = {
        'Content-Type': contentType,
        ...(accept && { Accept: accept }),
      };
      const response = await callContainer(target, name, headers, payload, invocationTimeout);
      const answer = await collect(response);
      const ok = (response.statusCode ?? 500) < 300;
      await s3.send(
        new PutObjectCommand({
          Bucket: ok ? output.bucket : failure.bucket,
          Key: ok ? output.key : failure.key,
          Body: ok
            ? answer
            : JSON.stringify({
                OriginalStatusCode: response.statusCode,
                OriginalMessage: answer.toString('utf8'),
              }),
          ContentType: ok
            ? (response.headers['content-type'] ?? 'application/octet-stream')
            : 'application/json',
        }),
      );
    } catch (error) {
      await s3
        .send(
          new PutObjectCommand({
            Bucket: failure.bucket,
            Key: failure.key,
            Body: JSON.stringify({ Message: (error as Error).message }),
            ContentType: 'application/json',
          }),
        )
        .catch(() => {});
    }
  })();
}
