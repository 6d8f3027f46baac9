/**
 * A minimal Lambda Node.js runtime for one function: imports the handler module once (init),
 * then invokes it with each event read from stdin, one at a time, as Lambda does per
 * environment. Runs under the arm64 Node (type stripping) on a deployed asset and under tsx
 * on the handler sources, so both sides see the same runtime. Results go to fd 3 as JSON lines.
 * Node strips the types of this file and of local/gateway/lambda-runtime.ts: both must keep to
 * erasable TypeScript (no enums, no parameter properties).
 *
 *   node test/arm64/harness.ts <module file> <export name>   # events: {"id", "event"} per line
 */
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { installLambdaStreamingRuntime, isStreamingHandler } from '../../local/gateway/lambda-runtime.ts';
import type { HarnessAnswer, HarnessRequest } from './protocol.ts';

const [modulePath, exportName = 'handler'] = process.argv.slice(2);
const results = createWriteStream('', { fd: 3 });
const send = (answer: HarnessAnswer) => results.write(`${JSON.stringify(answer)}\n`);

// The Node.js runtime provides `awslambda` before it loads the handler module.
installLambdaStreamingRuntime();
const started = performance.now();
const handler = await load().catch(async (error: unknown) => {
  console.error(error);
  send({ id: 'init', error: describe(error) });
  await new Promise<void>((resolve) => results.end(resolve));
  process.exit(1);
});
send({ id: 'init', result: { importMs: Math.round(performance.now() - started), node: process.version } });

let invocation = 0;
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const request = JSON.parse(line) as HarnessRequest;
  invocation += 1;
  const requestId = `00000000-0000-4000-8000-${String(invocation).padStart(12, '0')}`;
  // The runtime sets the trace header of each invocation in the environment.
  const n = invocation.toString(16);
  process.env._X_AMZN_TRACE_ID = `Root=1-00000000-${n.padStart(24, '0')};Parent=${n.padStart(16, '0')};Sampled=0`;
  try {
    send({ id: request.id, result: await invoke(request.event, context(requestId)) });
  } catch (error) {
    send({ id: request.id, error: describe(error) });
  }
}
results.end(() => process.exit(0));

/** The handler: the module's export, as the runtime resolves `Handler`. */
async function load(): Promise<(...args: unknown[]) => Promise<unknown>> {
  const module = (await import(pathToFileURL(modulePath as string).href)) as Record<string, unknown>;
  const exported = module[exportName];
  if (typeof exported !== 'function') {
    throw new Error(`${modulePath} has no exported function '${exportName}' (Handler)`);
  }
  return exported as (...args: unknown[]) => Promise<unknown>;
}

/** A plain handler's answer, or a streamed one split as API Gateway reads it: prelude, then body. */
async function invoke(event: unknown, ctx: object): Promise<unknown> {
  if (!isStreamingHandler(handler)) return handler(event, ctx);
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  const finished = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  await handler(event, stream, ctx);
  await finished;
  const all = Buffer.concat(chunks);
  const split = all.indexOf(Buffer.alloc(8));
  if (split < 0) return { prelude: null, body: all.toString('utf8') };
  return {
    prelude: JSON.parse(all.subarray(0, split).toString('utf8')),
    body: all.subarray(split + 8).toString('utf8'),
  };
}

/** The context object the Node.js runtime passes, with what the environment says. */
function context(awsRequestId: string): object {
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'function';
  const deadline = Date.now() + 30_000;
  return {
    awsRequestId,
    functionName: name,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${name}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '128',
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: '2026/01/01/[$LATEST]0123456789abcdef',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function describe(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: 'Error', message: String(error) };
}
