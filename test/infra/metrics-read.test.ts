/** The grant behind `GET /v1/metrics`: read-only CloudWatch, ListMetrics and GetMetricData only, the IAM5 finding acknowledged with its reason. */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { GET_METRIC_DATA_REASON, MetricsRead } from '../../infra/constructs/metrics-read.ts';
import { bareStack, inlineHandler, modelGateTemplate } from './helpers.ts';

describe('MetricsRead', () => {
  it('grants ListMetrics and GetMetricData, nothing else, and turns the route on', () => {
    const stack = bareStack();
    const fn = inlineHandler(stack);
    new MetricsRead(stack, 'MetricsRead', { fn });
    const template = Template.fromStack(stack);
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
      Properties: { PolicyDocument: { Statement: unknown[] }; Roles: unknown[] };
    }[];
    expect(policies).toHaveLength(1);
    expect(policies[0]?.Properties.PolicyDocument.Statement).toEqual([
      {
        Sid: 'ReadModelGateMetrics',
        Effect: 'Allow',
        Action: ['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics'],
        Resource: '*',
      },
    ]);
    expect(policies[0]?.Properties.Roles).toHaveLength(1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { MODELGATE_CLOUDWATCH_METRICS: 'true' } },
    });
    // cdk-nag flags the `*` (AwsSolutions-IAM5): the stack's nag test (stack.test.ts) passes only with
    // this acknowledgement, which sits on the policy, not on the role's own X-Ray one.
    expect(GET_METRIC_DATA_REASON).toMatch(
      /no resource-level permissions, and CloudWatch documents the cloudwatch:namespace condition key for PutMetricData only/,
    );
  });

  it('is given to the api function only', () => {
    const { template } = modelGateTemplate();
    const readers = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([, p]) =>
      JSON.stringify(p).includes('cloudwatch:GetMetricData'),
    );
    expect(readers).toHaveLength(1);
    const [, reader] = readers[0] as [string, { Properties: { Roles: { Ref: string }[] } }];
    const roles = reader.Properties.Roles;
    expect(roles.map((r) => r.Ref)).toEqual([expect.stringMatching(/^Inference/)]);
    const flagged = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (f) =>
        (f as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties
          .Environment?.Variables?.MODELGATE_CLOUDWATCH_METRICS === 'true',
    );
    expect(flagged).toHaveLength(1);
  });
});
