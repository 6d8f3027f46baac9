/**
 * Loopback networking for local mode: servers listening on 127.0.0.1, free ports, and request bodies read
 * up to a limit.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';

/** A server of local mode listening on loopback. */
export interface LoopbackServer {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Closes the server, dropping keep-alive connections instead of waiting on them. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (`port` 0 for an ephemeral one) and says where. */
export async function listenLoopback(server: Server, port: number): Promise<LoopbackServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port free at the time of asking. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The body, or undefined once it passes `limit` bytes. */
export function readBody(
  req: IncomingMessage,
  limit = Number.POSITIVE_INFINITY,
): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Writes lines to a stream, those of one turn of the event loop in one write:
 * a line per request under load would otherwise cost a write call each.
 */
export function batchedLines(out: NodeJS.WritableStream): (line: string) => void {
  let pending: string[] = [];
  const flush = () => {
    const lines = pending;
    pending = [];
    out.write(`${lines.join('\n')}\n`);
  };
  return (line) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push(line);
  };
}
