import * as ort from 'onnxruntime-node';
import type { ArtifactStore } from '../artifacts.ts';
import { LruCache } from '../cache.ts';
import { decodeElements, fromOrtType, toOrtType } from '../datatypes.ts';
import { ModelIntegrityError } from '../errors.ts';
import type { Manifest, TensorSpec } from '../manifest.ts';
import { inProcess, OnnxThread, type Session } from './onnx-thread.ts';
import type { InputTensor, ModelRunner, OutputTensor } from './runner.ts';

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
}

/**
 * Runs ONNX models in process with onnxruntime-node. Sessions are created once
 * per (name, version, sha256) and kept in an LRU bounded by model bytes.
 */
export class OnnxRuntime {
  private readonly sessions: LruCache<Session>;
  private readonly thread: OnnxThread | undefined;

  constructor(private readonly options: OnnxRuntimeOptions) {
    this.sessions = new LruCache(options.maxCacheBytes, (session) => {
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

  private async create(manifest: Manifest): Promise<Session> {
    const started = performance.now();
    const artifact = await this.options.artifacts.fetch(manifest);
    const threads = this.options.threads ?? 1;
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads,
      interOpNumThreads: threads,
    };
    let session: Session;
    try {
      session = this.thread
        ? await this.thread.createSession(artifact.bytes, options)
        : inProcess(await ort.InferenceSession.create(artifact.bytes, options));
    } catch (error) {
      throw new ModelIntegrityError(
        `model '${manifest.name}' version ${manifest.version} does not load in onnxruntime: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.options.onLoad?.(manifest, { ms: performance.now() - started, source: artifact.source });
    return session;
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
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of inputs) {
      feeds[input.name] = new ort.Tensor(toOrtType(input.datatype), input.data, input.shape);
    }
    const names = outputs && outputs.length > 0 ? [...outputs] : [...session.outputNames];
    const { results, ms } = await session.run(feeds, names);
    const tensors = names.map((name) => {
      const tensor = results[name] as Pick<ort.Tensor, 'type' | 'dims' | 'data'>;
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
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'] });
  } catch (error) {
    throw new ModelIntegrityError(`not a loadable ONNX model: ${(error as Error).message}`, { cause: error });
  }
  try {
    const spec = (meta: readonly ort.InferenceSession.ValueMetadata[], kind: string): TensorSpec[] =>
      meta.map((m) => {
        if (!m.isTensor) {
          throw new ModelIntegrityError(
            `${kind} '${m.name}' is not a tensor (a ZipMap?); export the model without ZipMap`,
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
