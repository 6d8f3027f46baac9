/**
 * Lets the api function answer `GET /v1/metrics`: read-only CloudWatch access
 * to ModelGate's namespace, as narrow as CloudWatch's IAM allows, and the flag that turns the route on.
 */
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ENV } from '../../functions/core/env.ts';
import { METRICS_NAMESPACE } from '../../functions/core/telemetry.ts';

/** Why `GetMetricData` is granted on `*`: CloudWatch gives it no resource type and no namespace condition. */
export const GET_METRIC_DATA_REASON =
  'cloudwatch:GetMetricData supports no resource-level permissions and no cloudwatch:namespace condition key, so IAM cannot confine it to the ModelGate namespace; the function asks only for that namespace (functions/core/metrics/cloudwatch.ts), and the grant is read-only: no PutMetricData, alarms or dashboards.';

export class MetricsRead extends Construct {
  readonly policy: iam.Policy;

  constructor(scope: Construct, id: string, props: { readonly fn: lambda.Function }) {
    super(scope, id);
    this.policy = new iam.Policy(this, 'Policy', {
      statements: [
        // ListMetrics evaluates cloudwatch:namespace: only ModelGate's series can be listed.
        new iam.PolicyStatement({
          sid: 'ListModelGateMetrics',
          actions: ['cloudwatch:ListMetrics'],
          resources: ['*'],
          conditions: { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } },
        }),
        new iam.PolicyStatement({
          sid: 'ReadMetricData',
          actions: ['cloudwatch:GetMetricData'],
          resources: ['*'],
        }),
      ],
    });
    props.fn.role?.attachInlinePolicy(this.policy);
    props.fn.addEnvironment(ENV.CLOUDWATCH_METRICS, 'true');
    Validations.of(this.policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: GET_METRIC_DATA_REASON,
    });
  }
}
