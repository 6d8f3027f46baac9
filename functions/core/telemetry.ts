import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Manifest } from './manifest.ts';

/** CloudWatch namespace of every ModelGate metric. */
export const METRICS_NAMESPACE = 'ModelGate';

export function createTelemetry(serviceName: string) {
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  /**
   * Starts one EMF record for a model. Callers add metrics and publish in the
   * same synchronous block, so concurrent requests never share a record.
   */
  const metricsFor = (manifest: Pick<Manifest, 'name' | 'version'>): Metrics => {
    metrics.addDimensions({ model: manifest.name });
    metrics.addMetadata('version', manifest.version);
    return metrics;
  };

  return {
    logger,
    /** Invocations, latency and errors of one request to one model. */
    recordRequest(manifest: Pick<Manifest, 'name' | 'version'>, latencyMs: number, statusCode: number): void {
      const metrics = metricsFor(manifest);
      metrics.addMetric('Invocations', MetricUnit.Count, 1);
      metrics.addMetric('Latency', MetricUnit.Milliseconds, latencyMs);
      metrics.addMetric('ClientErrors', MetricUnit.Count, statusCode >= 400 && statusCode < 500 ? 1 : 0);
      metrics.addMetric('Errors', MetricUnit.Count, statusCode >= 500 ? 1 : 0);
      metrics.publishStoredMetrics();
    },
    /** Time to fetch and open a model after a cold miss. */
    recordModelLoad(manifest: Manifest, event: { ms: number; source: string }): void {
      const metrics = metricsFor(manifest);
      metrics.addMetric('ModelLoadTime', MetricUnit.Milliseconds, event.ms);
      metrics.addMetric('ColdLoads', MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
      logger.info('model loaded', {
        model: manifest.name,
        version: manifest.version,
        ms: Math.round(event.ms),
        source: event.source,
        sizeBytes: manifest.sizeBytes,
      });
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
