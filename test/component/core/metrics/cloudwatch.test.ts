/**
 * `GET /v1/metrics` with the real CloudWatch client against a loopback server
 * speaking CloudWatch's JSON protocol: the queries it sends, the rows it answers.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMetrics } from '../../../../functions/core/metrics/cloudwatch.ts';
import { metricsRoute } from '../../../../functions/core/metrics/route.ts';
import { JOB_OPERATIONS } from '../../../../functions/core/openapi/operations-jobs.ts';
import { METRICS_NAMESPACE } from '../../../../functions/core/telemetry.ts';

interface Query {
  Id: string;
  MetricStat: {
    Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] };
    Period: number;
    Stat: string;
  };
}
const dims = (service: string, model: string, version?: string) => [
  { Name: 'service', Value: service },
  { Name: 'model', Value: model },
  ...(version ? [{ Name: 'version', Value: version }] : []),
];
/** Per (service, model, version): requests in each of the last minutes, 4xx, 5xx, p50, p99. */
const TRAFFIC: Record<string, { perMinute: number[]; c4: number; c5: number; p50: number; p99: number }> = {
  'modelgate-api/iris/1': { perMinute: [30, 20, 10], c4: 2, c5: 0, p50: 1.5, p99: 8 },
  'modelgate-api/iris/2': { perMinute: [5], c4: 0, c5: 1, p50: 2.5, p99: 12 },
  'modelgate-batch/iris/1': { perMinute: [1], c4: 0, c5: 0, p50: 40, p99: 90 },
};

const calls: { target: string; body: Record<string, unknown> }[] = [];
let server: Server;
let cloudwatch: CloudWatchClient;

function answer(target: string, body: Record<string, unknown>): unknown {
  if (target.endsWith('.ListMetrics')) {
    // Two pages: the NextToken must be followed. The set without `version` is not a row.
    if (!body.NextToken)
      return {
        Metrics: [
          {
            Namespace: METRICS_NAMESPACE,
            MetricName: 'Invocations',
            Dimensions: dims('modelgate-api', 'iris', '1'),
          },
          {
            Namespace: METRICS_NAMESPACE,
            MetricName: 'Invocations',
            Dimensions: dims('modelgate-api', 'iris'),
          },
        ],
        NextToken: 'page-2',
      };
    return {
      Metrics: [
        {
          Namespace: METRICS_NAMESPACE,
          MetricName: 'Invocations',
          Dimensions: dims('modelgate-api', 'iris', '2'),
        },
        {
          Namespace: METRICS_NAMESPACE,
          MetricName: 'Invocations',
          Dimensions: dims('modelgate-batch', 'iris', '1'),
        },
      ],
    };
  }
  const end = body.EndTime as number;
  const results = (body.MetricDataQueries as Query[]).map((q) => {
    const d = Object.fromEntries(q.MetricStat.Metric.Dimensions.map((x) => [x.Name, x.Value]));
    const t = TRAFFIC[`${d.service}/${d.model}/${d.version}`];
    if (!t) return { Id: q.Id, Timestamps: [], Values: [], StatusCode: 'Complete' };
    const { MetricName: name } = q.MetricStat.Metric;
    if (name === 'Latency')
      return {
        Id: q.Id,
        Timestamps: [end - 3600],
        Values: [q.MetricStat.Stat === 'p50' ? t.p50 : t.p99],
        StatusCode: 'Complete',
      };
    // Sums per minute, ending with the last whole minute; errors in the last one.
    const values =
      name === 'Invocations'
        ? t.perMinute
        : t.perMinute.map((_, i) => (i === t.perMinute.length - 1 ? (name === 'Errors' ? t.c5 : t.c4) : 0));
    return {
      Id: q.Id,
      Timestamps: values.map((_, i) => end - (values.length - i) * 60),
      Values: values,
      StatusCode: 'Complete',
    };
  });
  return { MetricDataResults: results };
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const target = String(req.headers['x-amz-target']);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    calls.push({ target, body });
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify(answer(target, body)));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cloudwatch = new CloudWatchClient({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});
afterAll(async () => {
  cloudwatch?.destroy();
  server?.close();
});

describe('metrics from CloudWatch', () => {
  it('reads the last hour by model and version in the rows the console draws', async () => {
    const now = Date.parse('2026-11-29T12:00:42Z');
    const report = await readMetrics(cloudwatch, now);
    // The OpenAPI example is this very window: the reference shows what the route answers.
    const { data: _, ...documented } = JOB_OPERATIONS['GET /v1/metrics'].answer.example;
    expect(report).toMatchObject(documented);
    expect(report.data.map(({ per_minute: _, ...row }) => row)).toEqual([
      // Version 1 served by two functions: counts add up, latency is the busier one's.
      { model: 'iris', version: '1', requests: 61, rps: 61 / 3600, client: 2, server: 0, p50: 1.5, p99: 8 },
      { model: 'iris', version: '2', requests: 5, rps: 5 / 3600, client: 0, server: 1, p50: 2.5, p99: 12 },
    ]);
    const v1 = report.data[0]?.per_minute ?? [];
    expect(v1).toHaveLength(60);
    expect(v1.slice(-3)).toEqual([30, 20, 11]);

    // What was asked: ListMetrics on the namespace (both pages), then one GetMetricData.
    const lists = calls.filter((c) => c.target.endsWith('.ListMetrics'));
    expect(lists.map((c) => c.body)).toEqual([
      { Namespace: 'ModelGate', MetricName: 'Invocations', RecentlyActive: 'PT3H' },
      { Namespace: 'ModelGate', MetricName: 'Invocations', RecentlyActive: 'PT3H', NextToken: 'page-2' },
    ]);
    const [data] = calls.filter((c) => c.target.endsWith('.GetMetricData'));
    expect(data?.body).toMatchObject({ StartTime: now / 1000 - 42 - 3600, EndTime: now / 1000 - 42 });
    const queries = data?.body.MetricDataQueries as Query[];
    expect(queries).toHaveLength(15);
    expect(
      queries
        .slice(0, 5)
        .map((q) => [q.Id, q.MetricStat.Metric.MetricName, q.MetricStat.Stat, q.MetricStat.Period]),
    ).toEqual([
      ['n0', 'Invocations', 'Sum', 60],
      ['c0', 'ClientErrors', 'Sum', 60],
      ['s0', 'Errors', 'Sum', 60],
      ['p0', 'Latency', 'p50', 3600],
      ['q0', 'Latency', 'p99', 3600],
    ]);
  });

  it('answers the route with a key only, and 404 where CloudWatch is not read', async () => {
    const event = (keyId?: string) =>
      ({ requestContext: { identity: { apiKeyId: keyId } } }) as unknown as APIGatewayProxyEvent;
    const read = () => readMetrics(cloudwatch);
    await expect(metricsRoute(read, event())).rejects.toMatchObject({ statusCode: 403 });
    await expect(metricsRoute(undefined, event('team-a'))).rejects.toThrow(
      /locally the gateway serves its counters at \/metrics/,
    );
    const ok = await metricsRoute(read, event('team-a'));
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body).data.map((r: { version: string }) => r.version)).toEqual(['1', '2']);
  });
});
