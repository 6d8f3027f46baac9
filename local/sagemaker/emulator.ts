/**
 * The SageMaker Runtime emulator: InvokeEndpoint and its streamed and async forms on loopback, each endpoint
 * forwarded to a local container's `/invocations`, with SageMaker's errors; inference components and their cold start.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import { PRODUCTION_VARIANT } from '../../infra/gpu-containers.ts';
import { listenLoopback, readBody } from '../net.ts';
import { invokeAsync } from './async.ts';
import { type ComponentCapacity, componentRefusal, INFERENCE_COMPONENT_HEADER } from './components.ts';
import { callContainer, forwarded } from './container-call.ts';
import {
  ACCOUNT,
  collect,
  eventMessage,
  modelError,
  type RuntimeError,
  RuntimeFault,
  sendFault,
} from './wire.ts';

export { RUNTIME_ERRORS, type RuntimeError } from './wire.ts';

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
   * The component's copies, scaled out on demand and in when idle: a request that finds none gets
   * SageMaker's no-capacity ValidationError. Without it a component always has capacity.
   */
  readonly capacity?: ComponentCapacity;
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
        const refusal = componentRefusal(name, target, req.headers[INFERENCE_COMPONENT_HEADER], res);
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
        if (match[2] === 'invocations')
          return await invoke({ name, target, variant, req, res, body, timeoutMs });
        if (match[2] === 'invocations-response-stream')
          return await invokeStream({ name, target, variant, req, res, body, timeoutMs });
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

/** One synchronous or streamed invocation of an endpoint, as the emulator received it. */
interface Invocation {
  readonly name: string;
  readonly target: EndpointTarget;
  readonly variant: string;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly body: Buffer;
  readonly timeoutMs: number;
}

async function invoke(call: Invocation): Promise<void> {
  const { name, target, variant, req, res, body, timeoutMs } = call;
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

async function invokeStream(call: Invocation): Promise<void> {
  const { name, target, variant, req, res, body, timeoutMs } = call;
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
