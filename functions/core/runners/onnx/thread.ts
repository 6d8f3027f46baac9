// A namespace import: bundles declare `createRequire` in their banner (infra/constructs/node-function.ts).
import * as nodeModule from 'node:module';
import { Worker } from 'node:worker_threads';
import type * as ort from 'onnxruntime-node';
import type { TreeProgram, TreeRun } from '../trees/trees.ts';

/** What the runtime needs of a session, whether it runs in process or on the thread. */
export interface Session {
  readonly outputNames: readonly string[];
  /** The outputs, and how long the session itself ran. */
  run(
    feeds: Record<string, ort.Tensor>,
    fetches: string[],
  ): Promise<{ results: Record<string, Pick<ort.Tensor, 'type' | 'dims' | 'data'>>; ms: number }>;
  /**
   * From now on runs the model's compiled trees instead of onnxruntime (whose
   * session is released). `run` is the program already built on this thread:
   * a session here uses it; the model thread builds its own from the source.
   */
  adopt(program: TreeProgram, run: TreeRun): Promise<void>;
  release(): Promise<void>;
}

type Results = Awaited<ReturnType<Session['run']>>['results'];

/** An onnxruntime session running on the caller's thread. */
export function inProcess(session: ort.InferenceSession): Session {
  let trees: TreeRun | undefined;
  const running = new Set<Promise<unknown>>();
  return {
    outputNames: session.outputNames,
    async run(feeds, fetches) {
      const started = performance.now();
      if (trees) return { results: trees(feeds, fetches) as Results, ms: performance.now() - started };
      const run = session.run(feeds, fetches);
      running.add(run);
      try {
        return { results: await run, ms: performance.now() - started };
      } finally {
        running.delete(run);
      }
    },
    async adopt(_program, run) {
      trees = run;
      // Runs already in onnxruntime finish there before its session goes.
      await Promise.allSettled([...running]);
      await session.release();
    },
    release: async () => {
      if (!trees) await session.release();
    },
  };
}

/**
 * The thread's program (CommonJS, evaluated): sessions by key, created from
 * model bytes, run on request. onnxruntime-node runs a session synchronously
 * on the calling thread; here that is this thread, not the caller's.
 */
const PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.onnxruntime);
const sessions = new Map();
const running = new Set();
parentPort.on('message', async (m) => {
  try {
    if (m.op === 'create') {
      // Batch inputs come in one shape after another: no arena to grow and keep.
      const session = await ort.InferenceSession.create(m.bytes, { ...m.options, enableCpuMemArena: false });
      sessions.set(m.key, session);
      parentPort.postMessage({ id: m.id, outputNames: session.outputNames });
    } else if (m.op === 'run') {
      const feeds = {};
      for (const f of m.feeds) feeds[f.name] = new ort.Tensor(f.type, f.data, f.dims);
      const started = performance.now();
      const run = sessions.get(m.key).run(feeds, m.names);
      running.add(run);
      const results = await run.finally(() => running.delete(run));
      const ms = performance.now() - started;
      const outputs = m.names.map((name) => ({ name, type: results[name].type, dims: results[name].dims, data: results[name].data }));
      parentPort.postMessage({ id: m.id, outputs, ms });
    } else if (m.op === 'adopt') {
      // Compiled trees (functions/core/runners/trees/) take the session's place.
      const run = new Function('return ' + m.program.source)()(m.program.input, m.program.outputs, m.program.features);
      const session = sessions.get(m.key);
      sessions.set(m.key, { run: async (feeds, names) => run(feeds, names), release: async () => {} });
      await Promise.allSettled([...running]);
      if (session) await session.release();
      parentPort.postMessage({ id: m.id });
    } else if (m.op === 'release') {
      const session = sessions.get(m.key);
      sessions.delete(m.key);
      if (session) await session.release();
      parentPort.postMessage({ id: m.id });
    }
  } catch (error) {
    parentPort.postMessage({ id: m.id, error: String((error && error.message) || error) });
  }
});
`;

type Reply = {
  id: number;
  error?: string;
  outputNames?: string[];
  ms?: number;
  outputs?: Array<{ name: string; type: ort.Tensor.Type; dims: number[]; data: ort.Tensor.DataType }>;
};

/**
 * One worker thread holding onnxruntime sessions, so that a caller with other
 * work (a batch job parsing its next rows) runs in parallel with the model.
 * A thread that stops is started again on the next call; its sessions are
 * created again from their bytes.
 */
export class OnnxThread {
  private worker: Worker | undefined;
  private generation = 0;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextKey = 0;

  async createSession(bytes: Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<Session> {
    const key = ++this.nextKey;
    let generation = -1;
    let outputNames: readonly string[] = [];
    let program: Pick<TreeProgram, 'source' | 'input' | 'outputs' | 'features'> | undefined;
    const ensure = async () => {
      if (generation === this.generation && this.worker) return;
      const reply = await this.call({ op: 'create', key, bytes, options });
      if (program) await this.call({ op: 'adopt', key, program });
      generation = this.generation;
      outputNames = reply.outputNames ?? [];
    };
    await ensure();
    return {
      get outputNames() {
        return outputNames;
      },
      run: async (feeds, fetches) => {
        await ensure();
        const reply = await this.call({
          op: 'run',
          key,
          names: fetches,
          feeds: Object.entries(feeds).map(([name, t]) => ({
            name,
            type: t.type,
            data: t.data,
            dims: t.dims,
          })),
        });
        return {
          results: Object.fromEntries((reply.outputs ?? []).map((o) => [o.name, o])),
          ms: reply.ms ?? 0,
        };
      },
      adopt: async (compiled) => {
        const { source, input, outputs, features } = compiled;
        program = { source, input, outputs, features };
        await ensure();
        await this.call({ op: 'adopt', key, program });
      },
      release: async () => {
        if (generation === this.generation && this.worker) await this.call({ op: 'release', key });
      },
    };
  }

  /** Stops the thread (its sessions with it). */
  async close(): Promise<void> {
    await this.worker?.terminate();
  }

  private call(message: Record<string, unknown>): Promise<Reply> {
    const worker = this.worker ?? this.start();
    const id = ++this.nextId;
    if (this.pending.size === 0) worker.ref();
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ ...message, id });
    });
  }

  private start(): Worker {
    const onnxruntime = nodeModule.createRequire(import.meta.url).resolve('onnxruntime-node');
    const worker = new Worker(PROGRAM, {
      eval: true,
      workerData: { onnxruntime },
      // The thread only moves tensors in and out: a small young generation keeps its memory low.
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 },
    });
    this.worker = worker;
    this.generation++;
    worker.unref();
    const settle = (id: number) => {
      const waiting = this.pending.get(id);
      this.pending.delete(id);
      if (this.pending.size === 0) worker.unref();
      return waiting;
    };
    worker.on('message', (reply: Reply) => {
      const waiting = settle(reply.id);
      if (reply.error !== undefined) waiting?.reject(new Error(reply.error));
      else waiting?.resolve(reply);
    });
    const stopped = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const id of [...this.pending.keys()]) settle(id)?.reject(error);
    };
    worker.on('error', stopped);
    worker.on('exit', (code) => stopped(new Error(`the onnxruntime thread stopped (exit code ${code})`)));
    return worker;
  }
}
