/**
 * Environment contract between infra (CDK stack, local mode) and the functions.
 *
 * Infra writes these variables; functions read them once, at module load, into
 * a frozen object. Nothing else in `functions/` reads `process.env`.
 */
export const ENV = {
  /** Bucket holding `models/<name>/<version>/…`. Required. */
  MODEL_BUCKET: 'MODELGATE_MODEL_BUCKET',
  /** S3 endpoint override (local mode: the s3rver URL). Unset on AWS. */
  S3_ENDPOINT: 'MODELGATE_S3_ENDPOINT',
  /**
   * Longest wait, in ms, for S3 to accept a connection or send the next bytes
   * before the attempt fails (and the SDK retries): a stalled store answers
   * 503, never holds a request until the function times out.
   */
  S3_TIMEOUT_MS: 'MODELGATE_S3_TIMEOUT_MS',
  /** Folder for downloaded model files. */
  CACHE_DIR: 'MODELGATE_CACHE_DIR',
  /** How long aliases, version lists and manifests are cached, in seconds. */
  REGISTRY_TTL_SECONDS: 'MODELGATE_REGISTRY_TTL_SECONDS',
  /** Upper bound of the in-memory ONNX session cache, in MiB of model file. */
  SESSION_CACHE_MB: 'MODELGATE_SESSION_CACHE_MB',
  /** Largest number of tensor elements accepted in one request. */
  MAX_ELEMENTS: 'MODELGATE_MAX_ELEMENTS',
  /** Large models and their SageMaker endpoints: JSON `[{"name", "endpoint", "protocol"}]`. */
  LARGE_MODELS: 'MODELGATE_LARGE_MODELS',
  /** SageMaker Runtime endpoint override (local mode: the emulator's URL). Unset on AWS. */
  SAGEMAKER_ENDPOINT: 'MODELGATE_SAGEMAKER_ENDPOINT',
  /** State machine (Step Functions Distributed Map) that scores batch files too large for one run. */
  LARGE_BATCH_STATE_MACHINE: 'MODELGATE_LARGE_BATCH_STATE_MACHINE',
  /** Input size in bytes above which a batch file goes to the state machine. */
  LARGE_BATCH_BYTES: 'MODELGATE_LARGE_BATCH_BYTES',
  /** `false` keeps tree ensembles in onnxruntime instead of compiling them to JavaScript. */
  COMPILE_TREES: 'MODELGATE_COMPILE_TREES',
  /** Folder of the console's and the reference's built assets (console/build.ts); default `assets` beside the bundle. */
  ASSETS_DIR: 'MODELGATE_ASSETS_DIR',
  /** DynamoDB table of usage per API key, model and day. Unset: usage is not recorded. */
  USAGE_TABLE: 'MODELGATE_USAGE_TABLE',
  /** DynamoDB endpoint override (local mode: the emulator's URL). Unset on AWS. */
  DYNAMODB_ENDPOINT: 'MODELGATE_DYNAMODB_ENDPOINT',
  /** Days a day of usage is kept before DynamoDB's TTL removes it. */
  USAGE_RETENTION_DAYS: 'MODELGATE_USAGE_RETENTION_DAYS',
  /** Milliseconds usage additions are summed before they are written (0: on the next turn of the event loop). */
  USAGE_FLUSH_MS: 'MODELGATE_USAGE_FLUSH_MS',
  /** Budgets and per-minute limits by API key id: JSON `[{"keyId", "tokensPerMonth"?, ...}]`. */
  KEY_LIMITS: 'MODELGATE_KEY_LIMITS',
  /** `true`: `GET /v1/metrics` reads ModelGate's CloudWatch namespace (the stack sets it with the read grant). */
  CLOUDWATCH_METRICS: 'MODELGATE_CLOUDWATCH_METRICS',
  /** CloudWatch endpoint override (tests: a loopback server). Unset on AWS. */
  CLOUDWATCH_ENDPOINT: 'MODELGATE_CLOUDWATCH_ENDPOINT',
} as const;

/**
 * What a large model's container speaks at `/invocations`: `tgi` (Hugging Face
 * TGI: generate answers an array, streams SSE), `lmi` (AWS LMI/DJL: generate
 * answers an object, streams JSON Lines), `openai` (OpenAI shapes natively),
 * `v2` (Open Inference Protocol tensors, e.g. Triton).
 */
export const CONTAINER_PROTOCOLS = ['openai', 'tgi', 'lmi', 'v2'] as const;
export type ContainerProtocol = (typeof CONTAINER_PROTOCOLS)[number];

/** The budgets and per-minute limits of one API key, as the functions enforce them. */
export interface KeyLimits {
  readonly tokensPerMonth?: number;
  readonly requestsPerMonth?: number;
  readonly tokensPerMinute?: number;
  readonly requestsPerMinute?: number;
}
const LIMIT_NAMES = ['tokensPerMonth', 'requestsPerMonth', 'tokensPerMinute', 'requestsPerMinute'] as const;

/** A large model as the functions see it. */
export interface LargeModelBinding {
  readonly name: string;
  readonly endpoint: string;
  readonly protocol: ContainerProtocol;
  /** The inference component to name on each invocation, for a model that scales to zero. */
  readonly component?: string;
  /** Seconds to hold a request that finds no capacity, retrying, before answering 503. */
  readonly coldStartWaitSeconds?: number;
}

export interface FunctionEnv {
  readonly modelBucket: string;
  readonly s3Endpoint: string | undefined;
  readonly s3TimeoutMs: number;
  readonly cacheDir: string;
  readonly registryTtlSeconds: number;
  readonly sessionCacheBytes: number;
  readonly maxElements: number;
  /** X-Ray tracing through Powertools Tracer: in Lambda unless POWERTOOLS_TRACE_ENABLED=false. */
  readonly tracing: boolean;
  readonly largeModels: readonly LargeModelBinding[];
  readonly sagemakerEndpoint: string | undefined;
  /** Distributed runs for large batch files, when the stack provides them. */
  readonly largeBatch: { readonly stateMachineArn: string; readonly thresholdBytes: number } | undefined;
  /** Tree ensembles compiled to JavaScript (checked against onnxruntime first). */
  readonly compileTrees: boolean;
  /** Folder of the built console and reference assets. */
  readonly assetsDir: string;
  /** Usage accounting, when the stack gives the function a usage table. */
  readonly usage:
    | {
        readonly table: string;
        readonly endpoint: string | undefined;
        readonly retentionDays: number;
        /** How long additions are summed before they are written. */
        readonly flushMs: number;
        /** Keys that have budgets or limits, by key id. */
        readonly limits: ReadonlyMap<string, KeyLimits>;
      }
    | undefined;
  /** Lambda's runtime API (`AWS_LAMBDA_RUNTIME_API`, host:port), set by Lambda only: the usage flush extension registers there. */
  readonly lambdaRuntimeApi: string | undefined;
  /** `GET /v1/metrics` from CloudWatch, when the stack grants the read. */
  readonly cloudwatchMetrics: { readonly endpoint: string | undefined } | undefined;
}

export const DEFAULTS = {
  cacheDir: '/tmp/modelgate',
  s3TimeoutMs: 5000,
  registryTtlSeconds: 15,
  sessionCacheMb: 512,
  maxElements: 1_000_000,
  usageRetentionDays: 400,
  // Deployed, each invocation's usage is written at once (and held against a freeze: lambda-flush.ts).
  usageFlushMs: 0,
} as const;

/** What a function without the model bucket (the chat function) reads. */
export type BucketlessEnv = Omit<FunctionEnv, 'modelBucket'>;

/**
 * Reads and validates the function environment. A function that never reads
 * the model bucket says so with `{ modelBucket: false }`: the stack gives it
 * no bucket, and it must still start.
 *
 * @throws Error naming the variable when one is missing or malformed, so a
 * misconfigured function fails at init instead of on its first request.
 * @example const env = readEnv(process.env, { modelBucket: false });
 */
export function readEnv(source?: NodeJS.ProcessEnv): Readonly<FunctionEnv>;
export function readEnv(source: NodeJS.ProcessEnv, needs: { modelBucket: false }): Readonly<BucketlessEnv>;
export function readEnv(
  source: NodeJS.ProcessEnv = process.env,
  needs: { modelBucket: boolean } = { modelBucket: true },
): Readonly<BucketlessEnv> {
  const modelBucket = source[ENV.MODEL_BUCKET];
  if (!modelBucket && needs.modelBucket) {
    throw new Error(`${ENV.MODEL_BUCKET} is not set: it must name the S3 bucket that holds the models`);
  }
  return Object.freeze({
    ...(needs.modelBucket && { modelBucket }),
    s3Endpoint: source[ENV.S3_ENDPOINT] || undefined,
    s3TimeoutMs: positiveNumber(source, ENV.S3_TIMEOUT_MS, DEFAULTS.s3TimeoutMs),
    cacheDir: source[ENV.CACHE_DIR] || DEFAULTS.cacheDir,
    registryTtlSeconds: positiveNumber(source, ENV.REGISTRY_TTL_SECONDS, DEFAULTS.registryTtlSeconds, true),
    sessionCacheBytes: positiveNumber(source, ENV.SESSION_CACHE_MB, DEFAULTS.sessionCacheMb) * 1024 * 1024,
    maxElements: positiveNumber(source, ENV.MAX_ELEMENTS, DEFAULTS.maxElements),
    tracing: Boolean(source.AWS_LAMBDA_FUNCTION_NAME) && source.POWERTOOLS_TRACE_ENABLED !== 'false',
    largeModels: largeModels(source[ENV.LARGE_MODELS]),
    sagemakerEndpoint: source[ENV.SAGEMAKER_ENDPOINT] || undefined,
    largeBatch: source[ENV.LARGE_BATCH_STATE_MACHINE]
      ? Object.freeze({
          stateMachineArn: source[ENV.LARGE_BATCH_STATE_MACHINE] as string,
          thresholdBytes: positiveNumber(source, ENV.LARGE_BATCH_BYTES, 1024 ** 3),
        })
      : undefined,
    compileTrees: flag(source, ENV.COMPILE_TREES, true),
    assetsDir:
      source[ENV.ASSETS_DIR] || (source.LAMBDA_TASK_ROOT ? `${source.LAMBDA_TASK_ROOT}/assets` : 'assets'),
    usage: source[ENV.USAGE_TABLE]
      ? Object.freeze({
          table: source[ENV.USAGE_TABLE] as string,
          endpoint: source[ENV.DYNAMODB_ENDPOINT] || undefined,
          retentionDays: positiveNumber(source, ENV.USAGE_RETENTION_DAYS, DEFAULTS.usageRetentionDays),
          flushMs: positiveNumber(source, ENV.USAGE_FLUSH_MS, DEFAULTS.usageFlushMs, true),
          limits: keyLimits(source[ENV.KEY_LIMITS]),
        })
      : undefined,
    lambdaRuntimeApi: source.AWS_LAMBDA_RUNTIME_API || undefined,
    cloudwatchMetrics: flag(source, ENV.CLOUDWATCH_METRICS, false)
      ? Object.freeze({ endpoint: source[ENV.CLOUDWATCH_ENDPOINT] || undefined })
      : undefined,
  });
}

function flag(source: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = source[name];
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new Error(`${name} must be true or false, got '${raw}'`);
}

function keyLimits(raw: string | undefined): ReadonlyMap<string, KeyLimits> {
  if (!raw) return new Map();
  const fail = (why: string): never => {
    throw new Error(
      `${ENV.KEY_LIMITS} ${why}: expected JSON [{"keyId", ${LIMIT_NAMES.map((n) => `"${n}"?`).join(', ')}}] with positive integers`,
    );
  };
  return new Map(
    (jsonArray(raw, fail) as Array<Record<string, unknown>>).map((entry, i) => {
      if (typeof entry?.keyId !== 'string') fail(`has no keyId at ${i}`);
      const limits: Record<string, number> = {};
      for (const name of LIMIT_NAMES) {
        const value = entry[name];
        if (value === undefined) continue;
        if (!Number.isInteger(value) || (value as number) < 1) fail(`has a bad ${name} at ${i}`);
        limits[name] = value as number;
      }
      return [entry.keyId as string, Object.freeze(limits)];
    }),
  );
}

function largeModels(raw: string | undefined): LargeModelBinding[] {
  if (!raw) return [];
  const fail = (why: string): never => {
    throw new Error(
      `${ENV.LARGE_MODELS} ${why}: expected JSON [{"name", "endpoint", "protocol": ${CONTAINER_PROTOCOLS.join('|')}, "component"?, "coldStartWaitSeconds"?}]`,
    );
  };
  return jsonArray(raw, fail).map((entry, i) => {
    const m = (entry ?? {}) as Record<string, unknown>;
    if (
      typeof m.name !== 'string' ||
      typeof m.endpoint !== 'string' ||
      !CONTAINER_PROTOCOLS.includes(m.protocol as never)
    ) {
      fail(`has a bad entry at ${i}`);
    }
    const wait = m.coldStartWaitSeconds;
    if (
      (m.component !== undefined && typeof m.component !== 'string') ||
      (wait !== undefined && !(typeof wait === 'number' && wait >= 0))
    ) {
      fail(`has a bad component or coldStartWaitSeconds at ${i}`);
    }
    return Object.freeze({
      name: m.name,
      endpoint: m.endpoint,
      protocol: m.protocol,
      ...(typeof m.component === 'string' && { component: m.component }),
      ...(typeof wait === 'number' && wait > 0 && { coldStartWaitSeconds: wait }),
    }) as LargeModelBinding;
  });
}

function positiveNumber(
  source: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  allowZero = false,
): number {
  const raw = source[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new Error(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got '${raw}'`);
  }
  return value;
}

/** A variable holding a JSON array, parsed; `fail` says what is wrong with it otherwise. */
function jsonArray(raw: string, fail: (why: string) => never): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    fail('is not JSON');
  }
  if (!Array.isArray(parsed)) fail('is not an array');
  return parsed as unknown[];
}
