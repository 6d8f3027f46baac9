/**
 * Monitoring in the synthesized ModelGate template: alarms to one encrypted topic, the dashboard, and for the
 * example large-model configuration the GPU endpoint's canary deployment rolled back by its alarms.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../infra/config.ts';
import { ModelGateStack } from '../../infra/stacks/modelgate-stack.ts';
import { modelGateTemplate, testApp } from './helpers.ts';

describe('Monitoring', () => {
  const { template } = modelGateTemplate({
    monitoring: { alarmEmail: 'ops@example.com', apiP99LatencyMs: 3000 },
  });
  const alarms = template.findResources('AWS::CloudWatch::Alarm');
  const topic = Object.keys(template.findResources('AWS::SNS::Topic'))[0] as string;

  it('sends every alarm, on alarm and on recovery, to one encrypted, TLS-only topic with the configured email', () => {
    expect(Object.keys(alarms).length).toBeGreaterThanOrEqual(7);
    for (const [id, alarm] of Object.entries(alarms)) {
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topic }]);
      expect(alarm.Properties.OKActions, id).toEqual([{ Ref: topic }]);
    }
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('alarms on the first batch dead letter and on batch function errors', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Threshold: 1,
    });
  });

  it('alarms on API 5xx rate and p99 latency, function throttles, batch dead letters and errors', () => {
    const described = Object.values(alarms).map((a) => a.Properties);
    const rate = described.find((a) => String(a.AlarmDescription).includes('answered 5xx'));
    expect(rate?.Metrics?.find((m: { Expression?: string }) => m.Expression)?.Expression).toBe(
      'IF(requests > 0, 100 * errors / requests, 0)',
    );
    expect(rate?.Threshold).toBe(1);
    const latency = described.find((a) => String(a.AlarmDescription).includes('p99 latency over 3000 ms'));
    expect(latency).toMatchObject({
      MetricName: 'Latency',
      Namespace: 'AWS/ApiGateway',
      ExtendedStatistic: 'p99',
      Threshold: 3000,
    });
    const throttles = described.filter((a) => a.MetricName === 'Throttles');
    expect(throttles).toHaveLength(3);
    expect(described.some((a) => String(a.AlarmDescription).includes('dead-letter queue'))).toBe(true);
    expect(described.some((a) => String(a.AlarmDescription).includes('batch function failed'))).toBe(true);
  });

  it('draws one dashboard: API, functions, models by version, batch', () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    for (const title of [
      'API requests and errors',
      'API latency (ms)',
      'api: duration (ms)',
      'chat: errors, throttles, concurrency',
      'Models: requests by model and version',
      'Models: errors, cold loads, shadow disagreements',
      'Batch: queue and dead letters',
    ]) {
      expect(body, title).toContain(title);
    }
    expect(body).toContain(`SEARCH('{ModelGate,model,service,version} MetricName=\\\\\\"Invocations\\\\\\"'`);
    expect(body).toContain('ConcurrentExecutions');
  });
});

describe('GPU endpoint monitoring and deployment guardrails', () => {
  const config = loadConfig(new URL('../../examples/llm.config.json', import.meta.url).pathname);
  const template = Template.fromStack(new ModelGateStack(testApp(), 'Llm', { config }));

  it('rolls a changed endpoint config out to 10% of capacity first, rolled back by its alarms', () => {
    const endpoint = Object.values(template.findResources('AWS::SageMaker::Endpoint'))[0];
    const guardrails = endpoint?.Properties.DeploymentConfig;
    expect(guardrails.BlueGreenUpdatePolicy.TrafficRoutingConfiguration).toEqual({
      Type: 'CANARY',
      CanarySize: { Type: 'CAPACITY_PERCENT', Value: 10 },
      WaitIntervalInSeconds: 600,
    });
    const alarmIds = guardrails.AutoRollbackConfiguration.Alarms.map(
      (a: { AlarmName: { Ref: string } }) => a.AlarmName.Ref,
    );
    expect(alarmIds).toHaveLength(2);
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    const [errors, latency] = alarmIds.map((id: string) => alarms[id]?.Properties);
    expect(errors).toMatchObject({
      Namespace: 'AWS/SageMaker',
      MetricName: 'Invocation5XXErrors',
      Dimensions: [
        { Name: 'EndpointName', Value: 'llm-llmqwen257b' },
        { Name: 'VariantName', Value: 'AllTraffic' },
      ],
    });
    expect(latency).toMatchObject({
      MetricName: 'ModelLatency',
      ExtendedStatistic: 'p99',
      Threshold: 60_000_000,
    });
  });

  it('charts the endpoint: invocations, errors, model latency, GPU utilization', () => {
    const body = JSON.stringify(
      Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]?.Properties,
    );
    for (const metric of ['Invocation5XXErrors', 'ModelLatency', 'GPUUtilization', 'GPUMemoryUtilization']) {
      expect(body, metric).toContain(metric);
    }
  });
});
