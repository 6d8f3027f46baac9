/**
 * Usage written before Lambda freezes the execution environment: an internal extension (the Lambda
 * Extensions API, from the function's own process) that tells Lambda it is done with an invocation
 * only once the usage that invocation added is in the table. The client has its answer already.
 */
import { request } from 'node:http';

/** Lambda Extensions API version path (docs.aws.amazon.com/lambda/latest/dg/runtimes-extensions-api.html). */
const EXTENSION_API = '2020-01-01/extension';

/** What Lambda gives the runtime between SIGTERM and SIGKILL when an internal extension is registered, less a margin. */
const SHUTDOWN_BUDGET_MS = 400;
/** Asking for the next event this long before the invocation's deadline, whatever is still being written. */
const DEADLINE_MARGIN_MS = 200;

/** Ties an invocation's work to its request id, so the extension knows when that invocation is over. */
export interface InvocationTracker {
  track<T>(requestId: string | undefined, work: Promise<T>): Promise<T>;
  /** Settles when the extension's loop ends (on a failure it logged and reported to Lambda). */
  readonly stopped: Promise<void>;
}

/** What the extension waits on: the recorder's drain (every addition written or given up). */
export interface Drainable {
  drain(): Promise<void>;
}

/** No extension (local mode, tests): the work passes through. */
export const untracked: InvocationTracker = { track: (_id, work) => work, stopped: Promise.resolve() };

/**
 * Registers the extension (it must happen during init, before the runtime asks for its first
 * event: await it at module load) and runs its loop: on each INVOKE it waits for that
 * invocation's handler to settle, drains the recorder, then asks for the next event, which is
 * what lets Lambda freeze the environment. Internal extensions may not register for SHUTDOWN:
 * Lambda sends the runtime process SIGTERM instead, on which the recorder is drained within the
 * 500 ms Lambda allows. Neither wait outlasts the invocation's deadline; an extension that can no
 * longer ask for events reports it (`exit/error`) rather than hold every later invocation.
 *
 * @param runtimeApi `AWS_LAMBDA_RUNTIME_API` (host:port). Undefined outside Lambda: no extension.
 * @param recorder the usage recorder; undefined when usage is not recorded: no extension.
 * @returns the tracker the handler wraps each invocation with; {@link untracked} when registration fails.
 */
export async function holdUntilWritten(
  runtimeApi: string | undefined,
  recorder: Drainable | undefined,
  name: string,
  logger: { error(message: string, details: Record<string, unknown>): void },
): Promise<InvocationTracker> {
  if (!runtimeApi || !recorder) return untracked;
  const onError = logger.error.bind(logger);
  let id: string;
  try {
    const registered = await call(runtimeApi, 'POST', `${EXTENSION_API}/register`, {
      headers: { 'Lambda-Extension-Name': name },
      body: JSON.stringify({ events: ['INVOKE'] }),
    });
    const header = registered.headers['lambda-extension-identifier'];
    if (registered.status !== 200 || typeof header !== 'string') {
      throw new Error(`register answered ${registered.status}: ${registered.body.slice(0, 200)}`);
    }
    id = header;
  } catch (error) {
    // Without it, usage is still written after each answer, only not held against a freeze.
    onError('usage flush extension not registered: writes may wait for the next invocation', {
      error: (error as Error).message,
    });
    return untracked;
  }
  process.once('SIGTERM', () => {
    void withDeadline(recorder.drain(), Date.now() + SHUTDOWN_BUDGET_MS).finally(() => process.exit(0));
  });
  const invocations = new Invocations();
  invocations.stopped = (async () => {
    for (;;) {
      let event: { eventType?: string; requestId?: string; deadlineMs?: number };
      try {
        const next = await call(runtimeApi, 'GET', `${EXTENSION_API}/event/next`, {
          headers: { 'Lambda-Extension-Identifier': id },
        });
        if (next.status !== 200)
          throw new Error(`event/next answered ${next.status}: ${next.body.slice(0, 200)}`);
        event = JSON.parse(next.body);
      } catch (error) {
        onError('usage flush extension failed: reported to Lambda', { error: (error as Error).message });
        await call(runtimeApi, 'POST', `${EXTENSION_API}/exit/error`, {
          headers: {
            'Lambda-Extension-Identifier': id,
            'Lambda-Extension-Function-Error-Type': 'Extension.UsageFlush',
          },
          body: JSON.stringify({ errorType: 'Extension.UsageFlush', errorMessage: (error as Error).message }),
        }).catch(() => {});
        return;
      }
      if (event.eventType === 'INVOKE' && event.requestId) {
        const deadline = (event.deadlineMs ?? Date.now() + 900_000) - DEADLINE_MARGIN_MS;
        await invocations.settled(event.requestId, deadline);
        await withDeadline(recorder.drain(), deadline);
      }
    }
  })();
  return invocations;
}

/** Invocations by request id: settled when the handler's work settles (before or after the INVOKE event came). */
class Invocations implements InvocationTracker {
  stopped: Promise<void> = Promise.resolve();
  private readonly waiting = new Map<string, { done: Promise<void>; settle: () => void }>();

  track<T>(requestId: string | undefined, work: Promise<T>): Promise<T> {
    if (requestId === undefined) return work;
    const entry = this.entry(requestId);
    work.then(entry.settle, entry.settle);
    return work;
  }

  /** Resolves when the invocation's work settled, or at its deadline (a handler that never ran). */
  async settled(requestId: string, deadlineMs: number): Promise<void> {
    await withDeadline(this.entry(requestId).done, deadlineMs);
    this.waiting.delete(requestId);
  }

  private entry(requestId: string) {
    let entry = this.waiting.get(requestId);
    if (!entry) {
      let settle = () => {};
      const done = new Promise<void>((resolve) => {
        settle = resolve;
      });
      entry = { done, settle: () => settle() };
      this.waiting.set(requestId, entry);
    }
    return entry;
  }
}

/** `work`, or nothing once `deadlineMs` has passed (a write still going on then is left to finish on its own). */
async function withDeadline(work: Promise<void>, deadlineMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, deadlineMs - Date.now()));
  });
  await Promise.race([work, deadline]);
  clearTimeout(timer);
}

/** One call to the runtime API. No timeout: `event/next` blocks until Lambda has an event. */
function call(
  host: string,
  method: 'GET' | 'POST',
  path: string,
  options: { headers: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`http://${host}/${path}`, { method, headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
