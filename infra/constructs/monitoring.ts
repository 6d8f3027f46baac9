/**
 * Monitoring: a CloudWatch dashboard of the API, functions, models, GPU endpoints and batch queue, and
 * alarms that notify one SNS topic.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../functions/core/telemetry.ts';
import { stackKey } from '../key-policy.ts';
import type { GpuEndpoint } from './gpu-endpoint.ts';

export interface MonitoringProps {
  readonly api: apigw.RestApi;
  /** The functions to watch, by the name the dashboard shows. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Functions whose throttling raises an alarm (requests refused for want of concurrency). */
  readonly throttleAlarmFunctions: readonly string[];
  readonly endpoints: readonly GpuEndpoint[];
  /** The batch path: its queue, dead-letter queue and function. */
  readonly batch: {
    readonly queue: sqs.IQueue;
    readonly deadLetterQueue: sqs.IQueue;
    readonly function: lambda.IFunction;
  };
  /** Subscribe this address to the alarm topic (it confirms by email). */
  readonly alarmEmail?: string | undefined;
  /** 5xx answers as a percentage of API requests that raise the alarm. @default 1 */
  readonly api5xxRatePercent?: number;
  /** p99 API latency that raises the alarm. @default 5 seconds */
  readonly apiP99Latency?: Duration;
}

/**
 * What ops watch: one CloudWatch dashboard (API, functions, models, GPU
 * endpoints, batch), and alarms on API 5xx rate, API p99 latency, function
 * throttles, endpoint errors and latency, and the batch dead-letter queue,
 * all notifying one SNS topic (encrypted with a key CloudWatch may use,
 * TLS-only), with an optional email subscription.
 */
export class Monitoring extends Construct {
  public readonly topic: sns.Topic;
  public readonly dashboard: cloudwatch.Dashboard;
  public readonly alarms: cloudwatch.IAlarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const minute = Duration.minutes(1);

    const key = stackKey(this, 'TopicKey', 'Encrypts the ModelGate alarm topic');
    // CloudWatch alarms publish to an encrypted topic only with a customer key they may use.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    this.topic = new sns.Topic(this, 'Alarms', {
      displayName: 'ModelGate alarms',
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const notify = new actions.SnsAction(this.topic);
    const watch = (alarm: cloudwatch.Alarm | cloudwatch.IAlarm) => {
      if (alarm instanceof cloudwatch.Alarm) {
        alarm.addAlarmAction(notify);
        alarm.addOkAction(notify);
      }
      this.alarms.push(alarm);
    };

    // API Gateway: 5xx rate, p99 latency.
    const requests = props.api.metricCount({ period: minute, statistic: 'Sum' });
    const serverErrors = props.api.metricServerError({ period: minute, statistic: 'Sum' });
    const rate = props.api5xxRatePercent ?? 1;
    watch(
      new cloudwatch.Alarm(this, 'Api5xxRate', {
        alarmDescription: `More than ${rate}% of API requests answered 5xx.`,
        metric: new cloudwatch.MathExpression({
          expression: 'IF(requests > 0, 100 * errors / requests, 0)',
          usingMetrics: { requests, errors: serverErrors },
          label: '5xx %',
          period: minute,
        }),
        threshold: rate,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    const p99 = props.apiP99Latency ?? Duration.seconds(5);
    watch(
      new cloudwatch.Alarm(this, 'ApiP99Latency', {
        alarmDescription: `API p99 latency over ${p99.toMilliseconds()} ms.`,
        metric: props.api.metricLatency({ period: minute, statistic: 'p99' }),
        threshold: p99.toMilliseconds(),
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    // Functions: throttles.
    for (const name of props.throttleAlarmFunctions) {
      const fn = props.functions[name];
      if (!fn) throw new Error(`Monitoring: no function '${name}' to watch for throttles`);
      watch(
        new cloudwatch.Alarm(this, `${pascal(name)}Throttles`, {
          alarmDescription: `The ${name} function refused requests for want of concurrency.`,
          metric: fn.metricThrottles({ period: minute, statistic: 'Sum' }),
          threshold: 1,
          evaluationPeriods: 3,
          datapointsToAlarm: 2,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    // GPU endpoints: alarms the endpoint owns, since its deployment guardrails roll back on them.
    for (const endpoint of props.endpoints) {
      watch(endpoint.errorsAlarm);
      watch(endpoint.latencyAlarm);
    }

    // Batch: a job that failed every retry, and function errors (the job is retried).
    watch(
      new cloudwatch.Alarm(this, 'BatchDeadLetters', {
        alarmDescription: 'A batch job failed every retry: its message is in the dead-letter queue.',
        metric: props.batch.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: minute }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    watch(
      new cloudwatch.Alarm(this, 'BatchErrors', {
        alarmDescription: 'The batch function failed (a job will be retried).',
        metric: props.batch.function.metricErrors({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      widgets: [
        [new cloudwatch.TextWidget({ markdown: '# ModelGate', width: 24, height: 1 })],
        [
          graph('API requests and errors', [
            requests.with({ label: 'requests' }),
            props.api.metricClientError({ period: minute, statistic: 'Sum', label: '4xx' }),
            serverErrors.with({ label: '5xx' }),
          ]),
          graph('API latency (ms)', [
            props.api.metricLatency({ period: minute, statistic: 'p50', label: 'p50' }),
            props.api.metricLatency({ period: minute, statistic: 'p99', label: 'p99' }),
            props.api.metricIntegrationLatency({
              period: minute,
              statistic: 'p99',
              label: 'integration p99',
            }),
          ]),
          new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 8, height: 6 }),
        ],
        Object.entries(props.functions).flatMap(([name, fn]) => [
          graph(
            `${name}: duration (ms)`,
            [
              fn.metricDuration({ period: minute, statistic: 'p50', label: 'p50' }),
              fn.metricDuration({ period: minute, statistic: 'p99', label: 'p99' }),
            ],
            6,
          ),
          graph(
            `${name}: errors, throttles, concurrency`,
            [
              fn.metricErrors({ period: minute, statistic: 'Sum', label: 'errors' }),
              fn.metricThrottles({ period: minute, statistic: 'Sum', label: 'throttles' }),
              fn.metric('ConcurrentExecutions', {
                period: minute,
                statistic: 'Maximum',
                label: 'concurrency',
              }),
            ],
            6,
          ),
        ]),
        [
          graph('Models: requests by model and version', [search('Invocations', 'Sum')]),
          graph('Models: p99 latency (ms) by model and version', [search('Latency', 'p99')]),
          graph('Models: errors, cold loads, shadow disagreements', [
            search('Errors', 'Sum'),
            search('ColdLoads', 'Sum'),
            search('ShadowDisagreements', 'Sum'),
          ]),
        ],
        ...props.endpoints.map((endpoint) => {
          const m = (namespace: string, metricName: string, statistic: string, label: string) =>
            new cloudwatch.Metric({
              namespace,
              metricName,
              statistic,
              label,
              period: minute,
              dimensionsMap: { EndpointName: endpoint.endpointName, VariantName: endpoint.variantName },
            });
          return [
            graph(`${endpoint.endpointName}: invocations and errors`, [
              m('AWS/SageMaker', 'Invocations', 'Sum', 'invocations'),
              m('AWS/SageMaker', 'Invocation4XXErrors', 'Sum', '4xx'),
              m('AWS/SageMaker', 'Invocation5XXErrors', 'Sum', '5xx'),
            ]),
            graph(`${endpoint.endpointName}: model latency (µs)`, [
              m('AWS/SageMaker', 'ModelLatency', 'p50', 'p50'),
              m('AWS/SageMaker', 'ModelLatency', 'p99', 'p99'),
            ]),
            graph(`${endpoint.endpointName}: GPU and memory (%)`, [
              m('/aws/sagemaker/Endpoints', 'GPUUtilization', 'Average', 'GPU'),
              m('/aws/sagemaker/Endpoints', 'GPUMemoryUtilization', 'Average', 'GPU memory'),
            ]),
          ];
        }),
        [
          graph(
            'Batch: queue and dead letters',
            [
              props.batch.queue.metricApproximateNumberOfMessagesVisible({ period: minute, label: 'queued' }),
              props.batch.queue.metricApproximateNumberOfMessagesNotVisible({
                period: minute,
                label: 'in flight',
              }),
              props.batch.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
                period: minute,
                label: 'dead letters',
              }),
            ],
            12,
          ),
        ],
      ],
    });
  }
}

function graph(title: string, metrics: cloudwatch.IMetric[], width = 8): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left: metrics, width, height: 6 });
}

/** Every series of a ModelGate metric, one line per model and version. */
function search(metricName: string, statistic: string): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},model,service,version} MetricName="${metricName}"', '${statistic}', 60)`,
    usingMetrics: {},
    label: metricName,
    period: Duration.minutes(1),
  });
}

function pascal(name: string): string {
  return name.replace(/(^|[-_.\s])(\w)/g, (_, __, c: string) => c.toUpperCase());
}
