/**
 * A function's ONNX runtime, built from its environment: model files from the model bucket cached on disk,
 * the session cache's bound, tree compiling, and telemetry.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { FunctionEnv } from '../../env.ts';
import { ArtifactStore } from '../../registry/artifacts.ts';
import type { Telemetry } from '../../telemetry.ts';
import { OnnxRuntime, type OnnxRuntimeOptions } from './runtime.ts';

/**
 * A function's ONNX runtime from its environment: model files from the model
 * bucket, cached on disk; sessions bounded by the session cache; disk errors
 * and tree compiles told to telemetry. `trees` says when tree ensembles are
 * compiled, unless the environment turns compiling off.
 */
export function modelRuntime(
  s3: S3Client,
  env: FunctionEnv,
  telemetry: Telemetry,
  options: Pick<OnnxRuntimeOptions, 'threads' | 'thread' | 'onLoad'> & { trees: 'load' | 'background' },
): OnnxRuntime {
  return new OnnxRuntime({
    ...options,
    artifacts: new ArtifactStore({
      s3,
      bucket: env.modelBucket,
      cacheDir: env.cacheDir,
      onDiskError: telemetry.recordDiskError,
    }),
    maxCacheBytes: env.sessionCacheBytes,
    trees: env.compileTrees ? options.trees : 'off',
    onCompile: telemetry.recordTreeCompile,
  });
}
