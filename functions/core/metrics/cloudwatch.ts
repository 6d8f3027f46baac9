/**
 * `GET /v1/metrics` on AWS: the last hour of ModelGate's CloudWatch namespace by
 * model and version (requests, requests/s, p50/p99 latency, 4xx, 5xx), read with
 * ListMetrics and GetMetricData, in the rows the console's metrics page draws.
 */
import {
  type CloudWatchClient,
  GetMetricDataCommand,
  ListMetricsCommand,
  type Metric,
  type MetricDataQuery,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import type { Row } from '../../../console/src/prometheus.ts';
import { METRICS_NAMESPACE } from '../telemetry.ts';

/** One model version over the window: the console's `Row` plus the request count and a per-minute series. */
interface MetricsRow extends Row {
  readonly requests: number;
  /** Requests per minute, oldest first, one entry per minute of the window. */
  readonly per_minute: number[];
}

export interface MetricsReport {
  readonly object: 'metrics';
  readonly source: 'cloudwatch';
  readonly namespace: string;
  readonly from: string;
  readonly to: string;
  readonly period_seconds: number;
  readonly data: MetricsRow[];
}

const WINDOW_SECONDS = 3600;
const PERIOD_SECONDS = 60;
/** GetMetricData takes at most 500 queries per call. */
const MAX_QUERIES = 500;

/** What each series of a model version asks CloudWatch for: id prefix, metric, statistic, period. */
const QUERIES = [
  { id: 'n', metric: 'Invocations', stat: 'Sum', period: PERIOD_SECONDS },
  { id: 'c', metric: 'ClientErrors', stat: 'Sum', period: PERIOD_SECONDS },
  { id: 's', metric: 'Errors', stat: 'Sum', period: PERIOD_SECONDS },
  { id: 'p', metric: 'Latency', stat: 'p50', period: WINDOW_SECONDS },
  { id: 'q', metric: 'Latency', stat: 'p99', period: WINDOW_SECONDS },
] as const;

const dim = (m: Metric, name: string) => m.Dimensions?.find((d) => d.Name === name)?.Value;

/** The model version series the namespace holds: `Invocations` with `model` and `version` dimensions. */
function versionSeries(metrics: Metric[]): Metric[] {
  return metrics.filter((m) => dim(m, 'model') !== undefined && dim(m, 'version') !== undefined);
}

/** GetMetricData queries for each series: `n3` is the requests of series 3, `q3` its p99. */
function buildQueries(series: Metric[]): MetricDataQuery[] {
  return series.flatMap((m, i) =>
    QUERIES.map((q) => ({
      Id: `${q.id}${i}`,
      MetricStat: {
        Metric: {
          Namespace: METRICS_NAMESPACE,
          MetricName: q.metric,
          Dimensions: m.Dimensions?.map((d) => ({ Name: d.Name, Value: d.Value })),
        },
        Period: q.period,
        Stat: q.stat,
      },
      ReturnData: true,
    })),
  );
}

/**
 * Rows by model and version from the query results. A version served by more
 * than one function (a `service` dimension each) adds up its counts and keeps
 * the latency of its busiest series.
 */
function shapeRows(series: Metric[], results: MetricDataResult[], start: Date): MetricsRow[] {
  const byId = new Map(results.map((r) => [r.Id, r]));
  const minutes = WINDOW_SECONDS / PERIOD_SECONDS;
  const perMinute = (id: string) => {
    const points = Array<number>(minutes).fill(0);
    const r = byId.get(id);
    (r?.Timestamps ?? []).forEach((t, k) => {
      const slot = Math.floor((new Date(t).getTime() - start.getTime()) / (PERIOD_SECONDS * 1000));
      if (slot >= 0 && slot < minutes) points[slot] = (points[slot] ?? 0) + (r?.Values?.[k] ?? 0);
    });
    return points;
  };
  const first = (id: string) => byId.get(id)?.Values?.[0];
  const rows = new Map<string, MetricsRow & { busiest: number }>();
  series.forEach((m, i) => {
    const model = dim(m, 'model') as string;
    const version = dim(m, 'version') as string;
    const counts = perMinute(`n${i}`);
    const requests = counts.reduce((a, b) => a + b, 0);
    const client = perMinute(`c${i}`).reduce((a, b) => a + b, 0);
    const server = perMinute(`s${i}`).reduce((a, b) => a + b, 0);
    const key = `${model}\u0000${version}`;
    const before = rows.get(key);
    const busiest = !before || requests > before.busiest;
    rows.set(key, {
      model,
      version,
      requests: requests + (before?.requests ?? 0),
      rps: (requests + (before?.requests ?? 0)) / WINDOW_SECONDS,
      client: client + (before?.client ?? 0),
      server: server + (before?.server ?? 0),
      p50: busiest ? first(`p${i}`) : before?.p50,
      p99: busiest ? first(`q${i}`) : before?.p99,
      per_minute: before ? before.per_minute.map((v, k) => v + (counts[k] ?? 0)) : counts,
      busiest: busiest ? requests : before.busiest,
    });
  });
  return [...rows.values()]
    .map(({ busiest: _, ...row }) => row)
    .sort((a, b) => a.model.localeCompare(b.model) || Number(a.version) - Number(b.version));
}

/** Reads the namespace's last hour (to the last whole minute) from CloudWatch. */
export async function readMetrics(cloudwatch: CloudWatchClient, now = Date.now()): Promise<MetricsReport> {
  const end = new Date(Math.floor(now / 60_000) * 60_000);
  const start = new Date(end.getTime() - WINDOW_SECONDS * 1000);
  const metrics: Metric[] = [];
  let token: string | undefined;
  do {
    const page = await cloudwatch.send(
      new ListMetricsCommand({
        Namespace: METRICS_NAMESPACE,
        MetricName: 'Invocations',
        RecentlyActive: 'PT3H',
        NextToken: token,
      }),
    );
    metrics.push(...(page.Metrics ?? []));
    token = page.NextToken;
  } while (token);
  const series = versionSeries(metrics);
  const queries = buildQueries(series);
  const results = new Map<string, MetricDataResult>();
  for (let i = 0; i < queries.length; i += MAX_QUERIES) {
    let next: string | undefined;
    do {
      const page = await cloudwatch.send(
        new GetMetricDataCommand({
          MetricDataQueries: queries.slice(i, i + MAX_QUERIES),
          StartTime: start,
          EndTime: end,
          ScanBy: 'TimestampAscending',
          NextToken: next,
        }),
      );
      for (const r of page.MetricDataResults ?? []) {
        const seen = results.get(r.Id as string);
        results.set(
          r.Id as string,
          seen
            ? {
                ...r,
                Timestamps: [...(seen.Timestamps ?? []), ...(r.Timestamps ?? [])],
                Values: [...(seen.Values ?? []), ...(r.Values ?? [])],
              }
            : r,
        );
      }
      next = page.NextToken;
    } while (next);
  }
  return {
    object: 'metrics',
    source: 'cloudwatch',
    namespace: METRICS_NAMESPACE,
    from: start.toISOString(),
    to: end.toISOString(),
    period_seconds: PERIOD_SECONDS,
    data: shapeRows(series, [...results.values()], start),
  };
}
