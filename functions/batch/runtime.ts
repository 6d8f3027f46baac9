/**
 * The ONNX runtime the batch functions share, set up for scoring files: the model on a thread of its own
 * (one onnxruntime thread), tree ensembles compiled when it loads.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { FunctionEnv } from '../core/env.ts';
import { modelRuntime } from '../core/runners/onnx/from-env.ts';
import type { OnnxRuntime, OnnxRuntimeOptions } from '../core/runners/onnx/runtime.ts';
import type { Telemetry } from '../core/telemetry.ts';

/**
 * The model runtime of the batch functions (whole files and Distributed Map
 * chunks). The model runs on a thread of its own while the caller parses the
 * next rows: one onnxruntime thread each gives the most rows per second on
 * two cores (more would spin against the parser). Tree ensembles are compiled
 * before the first micro-batch.
 */
export function batchRuntime(
  s3: S3Client,
  env: FunctionEnv,
  telemetry: Telemetry,
  onLoad?: OnnxRuntimeOptions['onLoad'],
): OnnxRuntime {
  return modelRuntime(s3, env, telemetry, {
    threads: 1,
    thread: true,
    trees: 'load',
    ...(onLoad && { onLoad }),
  });
}
