/**
 * Lets the api function answer `GET /v1/metrics`: read-only CloudWatch access
 * to ModelGate's namespace, as narrow as CloudWatch's IAM allows, and the flag that turns the route on.
 */
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ENV } from '../../functions/core/env.ts';

/**
 * Why both reads are granted on `*`: CloudWatch gives ListMetrics and GetMetricData no resource type,
 * and documents its `cloudwatch:namespace` condition key for PutMetricData only.
 */
export const GET_METRIC_DATA_REASON =
  'cloudwatch:ListMetrics and cloudwatch:GetMetricData support no resource-level permissions, and CloudWatch documents the cloudwatch:namespace condition key for PutMetricData only, so IAM cannot confine these reads to the ModelGate namespace; the function asks only for that namespace (functions/core/metrics/cloudwatch.ts), and the grant is read-only: no PutMetricData, alarms or dashboards.';

export class MetricsRead extends Construct {
  readonly policy: iam.Policy;

  constructor(scope: Construct, id: string, props: { readonly fn: lambda.Function }) {
    super(scope, id);
    this.policy = new iam.Policy(this, 'Policy', {
      statements: [
        // A namespace condition here would deny every call: the key is documented for PutMetricData only.
        new iam.PolicyStatement({
          sid: 'ReadModelGateMetrics',
          actions: ['cloudwatch:ListMetrics', 'cloudwatch:GetMetricData'],
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
