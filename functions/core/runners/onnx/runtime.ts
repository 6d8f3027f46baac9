/**
 * The ONNX runtime: models run in process with onnxruntime-node, sessions cached up to a bound in model
 * bytes, tree ensembles compiled to JavaScript when they agree with onnxruntime; and an ONNX graph's inputs
 * and outputs read from the graph.
 */
import type * as Ort from 'onnxruntime-node';
import { ModelIntegrityError } from '../../errors.ts';
import { decodeElements, fromOrtType, toOrtType } from '../../protocols/datatypes.ts';
import type { ArtifactStore } from '../../registry/artifacts.ts';
import { LruCache } from '../../registry/cache.ts';
import type { Manifest, TensorSpec } from '../../registry/manifest.ts';
import type { InputTensor, ModelRunner, OutputTensor } from '../runner.ts';
import { compileTrees, probeRows, treeRun, withinRule } from '../trees/trees.ts';
import { inProcess, OnnxThread, type Session } from './thread.ts';

/**
 * onnxruntime-node, loaded when the first session is made rather than with this
 * module: its native library (a few tens of ms) then loads while the model file
 * is read from S3, instead of before the first request arrives.
 */
let ort: typeof Ort | undefined;
let loading: Promise<typeof Ort> | undefined;

function loadOnnxRuntime(): Promise<typeof Ort> {
  loading ??= import('onnxruntime-node').then((loaded) => {
    ort = loaded;
    return loaded;
  });
  return loading;
}

export interface OnnxRuntimeOptions {
  readonly artifacts: ArtifactStore;
  /** Bound of the session cache, in bytes of model file. */
  readonly maxCacheBytes: number;
  /** onnxruntime threads per session; 1 suits small single-row models, 0 uses every core. */
  readonly threads?: number;
  /**
   * Run sessions on a worker thread of their own, so the caller's other work
   * (a batch job parsing its next rows) goes on in parallel with the model.
   */
  readonly thread?: boolean;
  /** Told after each cold load. */
  readonly onLoad?: (manifest: Manifest, event: { ms: number; source: 'disk' | 's3' }) => void;
  /**
   * Tree ensembles compiled to JavaScript (see trees.ts): when the session
   * loads (`load`, the default), after the model's first answer (`background`:
   * compiling takes tens of milliseconds, kept off a cold start), or never.
   */
  readonly trees?: 'load' | 'background' | 'off';
  /** Told whether a model's trees were compiled, or why not. */
  readonly onCompile?: (manifest: Manifest, event: TreeCompileEvent) => void;
}

export interface TreeCompileEvent {
  readonly compiled: boolean;
  /** Why the model stays in onnxruntime. */
  readonly reason?: string;
  /** Compiling and checking against onnxruntime. */
  readonly ms: number;
  /** Whether onnxruntime and the compiled trees disagreed on a probe row (a bug to report). */
  readonly mismatch?: boolean;
}

/**
 * Runs ONNX models in process with onnxruntime-node. Sessions are created once
 * per (name, version, sha256) and kept in an LRU bounded by model bytes.
 */
export class OnnxRuntime {
  private readonly sessions: LruCache<Session>;
  private readonly thread: OnnxThread | undefined;
  private readonly engines = new Map<string, Promise<'trees' | 'onnxruntime'>>();
  private readonly deferred = new Map<string, () => void>();

  constructor(private readonly options: OnnxRuntimeOptions) {
    this.sessions = new LruCache(options.maxCacheBytes, (session, key) => {
      this.engines.delete(key);
      this.deferred.get(key)?.();
      this.deferred.delete(key);
      session.release().catch(() => {});
    });
    if (options.thread) this.thread = new OnnxThread();
  }

  /** The runner of one model version. Cheap: the session is shared. */
  runner(manifest: Manifest): ModelRunner {
    return new OnnxModel(manifest, this);
  }

  /** Number of sessions held and their total model bytes. */
  get stats(): { sessions: number; bytes: number } {
    return { sessions: this.sessions.count, bytes: this.sessions.size };
  }

  isLoaded(manifest: Manifest): boolean {
    return this.sessions.has(sessionKey(manifest));
  }

  session(manifest: Manifest): Promise<Session> {
    return this.sessions.get(sessionKey(manifest), manifest.sizeBytes, () => this.create(manifest));
  }

  /** What runs a loaded model, once any compiling of its trees is settled. */
  engine(manifest: Manifest): Promise<'trees' | 'onnxruntime'> {
    return this.engines.get(sessionKey(manifest)) ?? Promise.resolve('onnxruntime');
  }

  private async create(manifest: Manifest): Promise<Session> {
    const started = performance.now();
    const runtime = loadOnnxRuntime();
    runtime.catch(() => {});
    const artifact = await this.options.artifacts.fetch(manifest);
    const threads = this.options.threads ?? 1;
    const options: Ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads,
      interOpNumThreads: threads,
    };
    let session: Session;
    try {
      session = this.thread
        ? await this.thread.createSession(artifact.bytes, options)
        : inProcess(await (await runtime).InferenceSession.create(artifact.bytes, options));
    } catch (error) {
      throw new ModelIntegrityError(
        `model '${manifest.name}' version ${manifest.version} does not load in onnxruntime: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.options.onLoad?.(manifest, { ms: performance.now() - started, source: artifact.source });
    const mode = this.options.trees ?? 'load';
    if (mode === 'off') return session;
    const key = sessionKey(manifest);
    const compiling =
      mode === 'load'
        ? this.compile(manifest, artifact.bytes, session)
        : new Promise<'trees' | 'onnxruntime'>((resolve) => {
            // Started once the first run has answered, on a timer: the answer goes out first.
            this.deferred.set(key, () => {
              setTimeout(() => {
                resolve(
                  this.sessions.has(key) ? this.compile(manifest, artifact.bytes, session) : 'onnxruntime',
                );
              }, 0).unref();
            });
          });
    this.engines.set(key, compiling);
    if (mode === 'load') await compiling;
    return session;
  }

  /** Told after each answered run: starts a compile left for after the first answer. */
  ran(manifest: Manifest): void {
    if (this.deferred.size === 0) return;
    const key = sessionKey(manifest);
    const start = this.deferred.get(key);
    this.deferred.delete(key);
    start?.();
  }

  /**
   * Compiles the model's trees and checks them against onnxruntime on probe
   * rows that take every branch; the session runs them from then on. Models
   * that are not tree ensembles, or that the compiler does not cover, stay in
   * onnxruntime.
   */
  private async compile(
    manifest: Manifest,
    bytes: Uint8Array,
    session: Session,
  ): Promise<'trees' | 'onnxruntime'> {
    const started = performance.now();
    const told = (event: Omit<TreeCompileEvent, 'ms'>) => {
      this.options.onCompile?.(manifest, { ...event, ms: performance.now() - started });
      return event.compiled ? 'trees' : 'onnxruntime';
    };
    const spec = manifest.inputs[0];
    if (manifest.inputs.length !== 1 || spec?.datatype !== 'FP32' || spec.shape.length !== 2) {
      return told({ compiled: false, reason: 'not one FP32 [N, features] input' });
    }
    try {
      const result = compileTrees(bytes, spec.shape[1] as number);
      if ('declined' in result) return told({ compiled: false, reason: result.declined });
      const { program } = result;
      const probe = probeRows(program);
      const { Tensor } = await loadOnnxRuntime();
      const feeds = {
        [program.input]: new Tensor('float32', probe.data, [probe.rows, program.features]),
      };
      const names = [...session.outputNames];
      const expected = (await session.run(feeds, names)).results;
      const run = treeRun(program);
      if (!withinRule(expected, run(feeds, names), names, program.ulps)) {
        return told({
          compiled: false,
          reason: `the compiled trees differ from onnxruntime${program.ulps ? ` by more than ${program.ulps} ulps` : ''}`,
          mismatch: true,
        });
      }
      await session.adopt(program, run);
      return told({ compiled: true });
    } catch (error) {
      return told({ compiled: false, reason: (error as Error).message });
    }
  }
}

class OnnxModel implements ModelRunner {
  constructor(
    readonly manifest: Manifest,
    private readonly runtime: OnnxRuntime,
  ) {}

  get ready(): boolean {
    return this.runtime.isLoaded(this.manifest);
  }

  async load(): Promise<void> {
    await this.runtime.session(this.manifest);
  }

  async infer(inputs: readonly InputTensor[], outputs?: readonly string[]): Promise<OutputTensor[]> {
    return (await this.inferTimed(inputs, outputs)).outputs;
  }

  async inferTimed(
    inputs: readonly InputTensor[],
    outputs?: readonly string[],
  ): Promise<{ outputs: OutputTensor[]; ms: number }> {
    const session = await this.runtime.session(this.manifest);
    // Loaded with the session.
    const { Tensor } = ort ?? (await loadOnnxRuntime());
    const feeds: Record<string, Ort.Tensor> = {};
    for (const input of inputs) {
      feeds[input.name] = new Tensor(toOrtType(input.datatype), input.data, input.shape);
    }
    const names = outputs && outputs.length > 0 ? [...outputs] : [...session.outputNames];
    const { results, ms } = await session.run(feeds, names);
    this.runtime.ran(this.manifest);
    const tensors = names.map((name) => {
      const tensor = results[name] as Pick<Ort.Tensor, 'type' | 'dims' | 'data'>;
      return {
        name,
        datatype: fromOrtType(tensor.type),
        shape: tensor.dims.map(Number),
        data: decodeElements(tensor.data as ArrayLike<unknown>, tensor.type),
      };
    });
    return { outputs: tensors, ms };
  }
}

function sessionKey(manifest: Manifest): string {
  return `${manifest.name}@${manifest.version}#${manifest.sha256}`;
}

/**
 * Inputs and outputs of an ONNX graph in V2 terms, read from the graph itself.
 * Symbolic dimensions become -1.
 *
 * @throws ModelIntegrityError when the bytes are not a loadable ONNX model or
 * use a type V2 cannot carry (e.g. ZipMap's sequence of maps).
 */
export async function describeOnnx(
  bytes: Uint8Array,
): Promise<{ inputs: TensorSpec[]; outputs: TensorSpec[] }> {
  let session: Ort.InferenceSession;
  try {
    session = await (await loadOnnxRuntime()).InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  } catch (error) {
    throw new ModelIntegrityError(`not a loadable ONNX model: ${(error as Error).message}`, { cause: error });
  }
  try {
    const spec = (meta: readonly Ort.InferenceSession.ValueMetadata[], kind: string): TensorSpec[] =>
      meta.map((m) => {
        if (!m.isTensor) {
          throw new ModelIntegrityError(
            `${kind} '${m.name}' is not a tensor; V2 carries tensors only (a single ZipMap output is rewritten at publish)`,
          );
        }
        return {
          name: m.name,
          datatype: fromOrtType(m.type),
          shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
        };
      });
    return { inputs: spec(session.inputMetadata, 'input'), outputs: spec(session.outputMetadata, 'output') };
  } finally {
    await session.release();
  }
}
