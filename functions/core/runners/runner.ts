/**
 * The model runner: the one interface to a model version, wherever it runs, and the input and output
 * tensors it takes and gives.
 */
import type { TensorData, V2Datatype } from '../protocols/datatypes.ts';
import type { Manifest } from '../registry/manifest.ts';

/** An input tensor, validated and typed for the runtime. */
export interface InputTensor {
  readonly name: string;
  readonly datatype: V2Datatype;
  readonly shape: readonly number[];
  readonly data: TensorData;
}

/** An output tensor, flattened row-major, JSON-ready. */
export interface OutputTensor {
  readonly name: string;
  readonly datatype: V2Datatype;
  readonly shape: number[];
  readonly data: Array<number | boolean | string | null>;
}

/**
 * One model version, wherever it runs (in process, on an endpoint). Routers
 * and protocols talk only to this interface.
 */
export interface ModelRunner {
  readonly manifest: Manifest;
  /** True once `load()` has completed and `infer()` will not wait on a load. */
  readonly ready: boolean;
  /** Loads the model if needed; concurrent calls share one load. */
  load(): Promise<void>;
  /** Runs the model; `outputs` selects outputs by name (all when absent). */
  infer(inputs: readonly InputTensor[], outputs?: readonly string[]): Promise<OutputTensor[]>;
  /** `infer`, and the time the model itself ran (without queueing), where the runner can tell. */
  inferTimed?(
    inputs: readonly InputTensor[],
    outputs?: readonly string[],
  ): Promise<{ outputs: OutputTensor[]; ms: number }>;
}
