/**
 * A function's telemetry: Powertools logs and CloudWatch metrics by model and version (the same figures
 * counted in process, for `GET /metrics` locally), and tracing of AWS SDK clients when asked for.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type Counters, processCounters } from './counters.ts';
import type { Manifest } from './registry/manifest.ts';
import type { TreeCompileEvent } from './runners/onnx/runtime.ts';

/** CloudWatch namespace of every ModelGate metric. */
export const METRICS_NAMESPACE = 'ModelGate';

/** Powertools Metrics that says whether it publishes (POWERTOOLS_METRICS_DISABLED, POWERTOOLS_DEV). */
class PublishingMetrics extends Metrics {
  get publishing(): boolean {
    return !this.isDisabled();
  }
}

/** Labels of one served request: the model and version that answered, and the API route. */
export interface Served {
  readonly name: string;
  readonly version: string;
}

/** How a shadow version's answer compared with production's. */
export type ShadowOutcome = 'agree' | 'disagree' | 'error';

/**
 * Powertools logger and metrics for one function, plus the same figures in
 * this process's {@link processCounters} (served as `GET /metrics` locally).
 * Every metric carries two dimension sets, `model` and `model, version`, so
 * dashboards show a model as a whole and each version of a canary apart.
 */
export function createTelemetry(serviceName: string, counters: Counters = processCounters) {
  const logger = new Logger({ serviceName });
  const metrics = new PublishingMetrics({ namespace: METRICS_NAMESPACE, serviceName });
  // Read once: Powertools does its bookkeeping (and reads the environment) on every
  // call even when it will not publish, which would cost a disabled request ~10 µs.
  const emf = metrics.publishing;
  /**
   * One Metrics per model, `model` among its default dimensions: a record then
   * holds the sets `service, model, version` (the version as a dimension) and
   * `service, model` (an empty dimension set) with every key defined once.
   * Two dimension sets naming `model` would be the same EMF, but Powertools
   * warns on every publish of a key defined twice: a log line per request.
   */
  const perModel = new Map<string, Metrics>();
  /**
   * Starts one EMF record for a model version. Callers add metrics and publish
   * in the same synchronous block, so concurrent requests never share a record.
   */
  const metricsFor = (served: Served): Metrics => {
    let m = perModel.get(served.name);
    if (!m) {
      m = new Metrics({
        namespace: METRICS_NAMESPACE,
        serviceName,
        defaultDimensions: { model: served.name },
      });
      perModel.set(served.name, m);
    }
    m.addDimension('version', served.version);
    m.addDimensions({});
    return m;
  };

  /** Counter and histogram series per (model, version, status), looked up once. */
  const handles = new Map<string, { record(ms: number): void }>();
  const seriesOf = (served: Served, statusCode: number) => {
    const key = `${served.name}\u0000${served.version}\u0000${statusCode}`;
    let handle = handles.get(key);
    if (!handle) {
      const labels = { model: served.name, version: served.version };
      const requests = counters.counter(
        'modelgate_requests_total',
        'Requests served, by model, version and status code.',
        { ...labels, code: String(statusCode) },
      );
      const duration = counters.histogram(
        'modelgate_request_duration_seconds',
        'Handler time per request, from routing to answer.',
        labels,
      );
      handle = {
        record(ms) {
          requests.inc();
          duration.observe(ms);
        },
      };
      handles.set(key, handle);
    }
    return handle;
  };

  return {
    logger,
    /** Invocations, latency and errors of one request to one model version. */
    recordRequest(served: Served, latencyMs: number, statusCode: number): void {
      if (emf) {
        const m = metricsFor(served);
        m.addMetric('Invocations', MetricUnit.Count, 1);
        m.addMetric('Latency', MetricUnit.Milliseconds, latencyMs);
        m.addMetric('ClientErrors', MetricUnit.Count, statusCode >= 400 && statusCode < 500 ? 1 : 0);
        m.addMetric('Errors', MetricUnit.Count, statusCode >= 500 ? 1 : 0);
        m.publishStoredMetrics();
      }
      seriesOf(served, statusCode).record(latencyMs);
    },
    /** Time to fetch and open a model after a cold miss. */
    recordModelLoad(manifest: Manifest, event: { ms: number; source: string }): void {
      if (emf) {
        const m = metricsFor(manifest);
        m.addMetric('ModelLoadTime', MetricUnit.Milliseconds, event.ms);
        m.addMetric('ColdLoads', MetricUnit.Count, 1);
        m.publishStoredMetrics();
      }
      const labels = { model: manifest.name, version: manifest.version };
      counters.inc(
        'modelgate_model_loads_total',
        'Cold model loads (file fetched or read, session opened).',
        {
          ...labels,
          source: event.source,
        },
      );
      counters.observe(
        'modelgate_model_load_duration_seconds',
        'Time to fetch and open a model.',
        labels,
        event.ms,
      );
      logger.info('model loaded', {
        model: manifest.name,
        version: manifest.version,
        ms: Math.round(event.ms),
        source: event.source,
        sizeBytes: manifest.sizeBytes,
      });
    },
    /** Whether a model's trees now run compiled, or why they stay in onnxruntime. */
    recordTreeCompile(manifest: Manifest, event: TreeCompileEvent): void {
      const result = event.compiled ? 'compiled' : event.mismatch ? 'mismatch' : 'declined';
      counters.inc(
        'modelgate_tree_compiles_total',
        'Models checked for compiling their trees, by result (compiled, declined, mismatch).',
        { model: manifest.name, version: manifest.version, result },
      );
      const fields = { model: manifest.name, version: manifest.version, ms: Math.round(event.ms) };
      if (event.compiled) logger.info('model trees compiled', fields);
      else if (event.mismatch) {
        logger.warn('compiled trees differ from onnxruntime: the model stays in onnxruntime', fields);
      } else logger.debug('model stays in onnxruntime', { ...fields, reason: event.reason });
    },
    /** The model file cache could not be written (a full or read-only /tmp): serving goes on from memory. */
    recordDiskError(error: unknown): void {
      counters.inc(
        'modelgate_disk_cache_errors_total',
        'Model files that could not be written to the disk cache and are served from memory.',
        {},
      );
      logger.warn('model disk cache not writable; serving from memory', { error });
    },
    /** One mirrored request to a shadow version, and whether its answer matched production's. */
    recordShadow(shadow: Served, outcome: ShadowOutcome): void {
      if (emf) {
        const m = metricsFor(shadow);
        m.addMetric('ShadowInvocations', MetricUnit.Count, 1);
        m.addMetric('ShadowDisagreements', MetricUnit.Count, outcome === 'disagree' ? 1 : 0);
        m.addMetric('ShadowErrors', MetricUnit.Count, outcome === 'error' ? 1 : 0);
        m.publishStoredMetrics();
      }
      counters.inc(
        'modelgate_shadow_requests_total',
        'Requests mirrored to a shadow version, by how its answer compared with production.',
        { model: shadow.name, version: shadow.version, outcome },
      );
    },
  };
}

export type Telemetry = ReturnType<typeof createTelemetry>;

/**
 * Traces an AWS SDK client with Powertools Tracer. The tracer is loaded only
 * when asked for: the X-Ray SDK under it turns on async hooks, which tax every
 * promise in the process even when tracing is off.
 */
export async function traceClient<T>(client: T, serviceName: string): Promise<T> {
  const { Tracer } = await import('@aws-lambda-powertools/tracer');
  return new Tracer({ serviceName }).captureAWSv3Client(client);
}
