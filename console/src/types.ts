/** Shapes of the API answers the console reads (see GET /openapi.json). */
export interface TensorSpec {
  name: string;
  datatype: string;
  shape: number[];
}
export interface Manifest {
  name: string;
  version: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  labels?: string[];
  features?: string[];
  sizeBytes: number;
  createdAt: string;
  description?: string;
}
export interface Alias {
  routes: { version: string; weight: number }[];
  shadow?: string;
}
export interface RegistryView {
  name: string;
  production?: Alias;
  aliases: Record<string, Alias>;
  versions: Manifest[];
}
export interface BatchJob {
  id: string;
  model: string;
  status: string;
  input: string;
  output: string;
  /** `s3://<bucket>/<output>`: the bucket is private, so the console shows it rather than links it. */
  output_uri: string;
  manifest?: {
    model?: string;
    version?: string;
    rows: number;
    succeeded: number;
    failed: number;
    startedAt: string;
    durationMs?: number;
    error?: string;
  };
}
/** `GET /v1/batches/{id}/errors`: a job's failed rows, from its output file. */
export interface BatchRowErrors {
  data: { line: number; error: string }[];
  has_more: boolean;
}
export interface UsageCounts {
  requests: number;
  rows: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  client_errors: number;
  server_errors: number;
}
export interface UsageLine extends UsageCounts {
  key_id: string;
  day: string;
  model: string;
}
export interface UsageReport {
  key_id: string;
  from: string;
  to: string;
  data: UsageLine[];
  totals: UsageCounts;
}
/** `GET /v1/metrics` (deployed): the last hour from CloudWatch, in the metrics page's rows. */
export interface MetricsReport {
  from: string;
  to: string;
  period_seconds: number;
  data: {
    model: string;
    version: string;
    rps: number;
    client: number;
    server: number;
    p50?: number;
    p99?: number;
    per_minute: number[];
  }[];
}
