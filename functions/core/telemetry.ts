import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Manifest } from './manifest.ts';

/** CloudWatch namespace of every ModelGate metric. */
export const METRICS_NAMESPACE = 'ModelGate';

export function createTelemetry(serviceName: string) {
  const logger = new Logger({ serviceName });
  const tracer = new Tracer({ serviceName });
  /** A metrics set of its own per request, so concurrent requests never share dimensions. */
  const metricsFor = (manifest: Pick<Manifest, 'name' | 'version'>): Metrics => {
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
    metrics.addDimensions({ model: manifest.name });
    metrics.addMetadata('version', manifest.version);
    return metrics;
  };

  return {
    logger,
    tracer,
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
