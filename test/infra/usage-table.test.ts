/**
 * The UsageTable construct, alone and in the ModelGate template: an encrypted on-demand table with a TTL, the
 * recorder's binding and grants, refused retention, and the per-key budgets handed to the api and chat functions.
 */
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { UsageTable } from '../../infra/constructs/usage-table.ts';
import { bareStack, modelGateTemplate } from './helpers.ts';

describe('UsageTable', () => {
  it('is on-demand, encrypted with its own rotating key, point-in-time recoverable, with a TTL', () => {
    const stack = bareStack();
    new UsageTable(stack, 'Usage', { retention: Duration.days(90) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'keyId', KeyType: 'HASH' },
        { AttributeName: 'dayModel', KeyType: 'RANGE' },
      ],
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^UsageKey'), 'Arn'] },
      },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });

  it('binds a function with the table name, its retention, and only UpdateItem and Query', () => {
    const stack = bareStack();
    const usage = new UsageTable(stack, 'Usage', { retention: Duration.days(30) });
    const fn = new lambda.Function(stack, 'Fn', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {}'),
    });
    usage.bindRecorder(fn);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: { MODELGATE_USAGE_TABLE: { Ref: Match.anyValue() }, MODELGATE_USAGE_RETENTION_DAYS: '30' },
      },
    });
    const policy = Object.values(template.findResources('AWS::IAM::Policy'))[0] as {
      Properties: { PolicyDocument: { Statement: unknown[] } };
    };
    const statements = policy.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>;
    expect(statements.flatMap((s) => s.Action).sort()).toEqual([
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:Encrypt',
      'kms:GenerateDataKey',
    ]);
  });

  it('refuses a retention under a day', () => {
    expect(() => new UsageTable(bareStack(), 'Usage', { retention: Duration.hours(2) })).toThrow(
      /retention must be a whole number of days, at least 1, got 2 hours/,
    );
  });

  it('is wired to the api and chat functions, with the table and key ids as stack outputs', () => {
    const { template } = modelGateTemplate({ usage: { retentionDays: 60 } });
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { MODELGATE_USAGE_RETENTION_DAYS: '60' } } },
    });
    expect(Object.keys(functions).map((id) => id.replace(/[0-9A-F]{8}$/, ''))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Inference/), expect.stringMatching(/^Chat/)]),
    );
    expect(Object.keys(functions)).toHaveLength(2);
    template.hasOutput('UsageTableName', {});
    template.hasOutput('ApiKeyIds', {});
  });

  it("gives the api and chat functions each key's budgets by key id, without a dependency cycle", () => {
    // Template.fromStack refuses a template whose resources depend on each other in a cycle.
    const { template } = modelGateTemplate({
      usagePlans: [{ name: 'standard', limits: { tokensPerMonth: 1000 } }],
      apiKeys: [
        { name: 'default', plan: 'standard', limits: { tokensPerMinute: 50 } },
        { name: 'other', plan: 'standard', limits: { tokensPerMonth: 99 } },
      ],
    });
    const limited = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: { MODELGATE_KEY_LIMITS: Match.anyValue() } } },
    });
    expect(Object.keys(limited)).toHaveLength(2);
    const value = JSON.stringify(Object.values(limited)[0]);
    expect(value).toContain('{\\"keyId\\":\\"');
    expect(value).toContain('\\"tokensPerMonth\\":1000,\\"tokensPerMinute\\":50}');
    expect(value).toContain('\\"tokensPerMonth\\":99}');
    expect(value).toMatch(/"Ref":"ApiKeyDefault[0-9A-F]{8}"/);
  });
});
