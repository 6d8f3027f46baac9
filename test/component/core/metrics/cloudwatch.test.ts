/**
 * `GET /v1/metrics` with the real CloudWatch client against a loopback server
 * speaking CloudWatch's JSON protocol: the queries it sends, the rows it answers.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMetrics } from '../../../../functions/core/metrics/cloudwatch.ts';
import { metricsRoute } from '../../../../functions/core/metrics/route.ts';
import { JOB_OPERATIONS } from '../../../../functions/core/openapi/operations-jobs.ts';
import { type FakeCloudWatch, type Query, startCloudWatch } from '../../../fixtures/cloudwatch.ts';

let fake: FakeCloudWatch;
let cloudwatch: CloudWatchClient;

beforeAll(async () => {
  fake = await startCloudWatch();
  cloudwatch = new CloudWatchClient({
    endpoint: fake.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});
afterAll(async () => {
  cloudwatch?.destroy();
  await fake?.close();
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
    const lists = fake.calls.filter((c) => c.target.endsWith('.ListMetrics'));
    expect(lists.map((c) => c.body)).toEqual([
      { Namespace: 'ModelGate', MetricName: 'Invocations', RecentlyActive: 'PT3H' },
      { Namespace: 'ModelGate', MetricName: 'Invocations', RecentlyActive: 'PT3H', NextToken: 'page-2' },
    ]);
    const [data] = fake.calls.filter((c) => c.target.endsWith('.GetMetricData'));
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
