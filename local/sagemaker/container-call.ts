/** How the emulator calls a container's `/invocations`: the headers SageMaker forwards, and the call with its timeout. */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { EndpointTarget } from './emulator.ts';
import { logStream, RuntimeFault } from './wire.ts';

/** Headers SageMaker forwards to the container. */
export function forwarded(req: IncomingMessage, accept: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': (req.headers['content-type'] as string | undefined) ?? 'application/octet-stream',
  };
  if (accept) headers.Accept = accept;
  const custom = req.headers['x-amzn-sagemaker-custom-attributes'];
  if (typeof custom === 'string') headers['X-Amzn-SageMaker-Custom-Attributes'] = custom;
  return headers;
}

/** POSTs to the container; resolves with its response once headers arrive. */
export function callContainer(
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
