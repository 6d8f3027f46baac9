/**
 * The synthesized ModelGate stack as a whole: outputs, the env contract, IAM without wildcards, KMS keys for
 * bucket readers, writers and log groups, cdk-nag clean, and the configuration file's schema and messages.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../functions/core/env.ts';
import { loadConfig, parseConfig } from '../../infra/config.ts';
import { ModelGateStack } from '../../infra/stacks/modelgate-stack.ts';
import { modelGateTemplate, nagPacks, testApp, Validations } from './helpers.ts';

describe('ModelGateStack', () => {
  const { template } = modelGateTemplate({
    api: { memoryMiB: 3008, maxElements: 5000, registryTtlSeconds: 5 },
  });

  it('outputs the API URL, the bucket name and the API key id', () => {
    const outputs = template.findOutputs('*');
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ApiKeyId', 'ApiUrl', 'ModelBucketName']));
    expect(outputs.ModelBucketName?.Value).toEqual({ Ref: expect.stringMatching(/^ModelStoreBucket/) });
    expect(outputs.ApiKeyId?.Value).toEqual({ Ref: expect.stringMatching(/Key/) });
  });

  it('gives the function its configuration through the env contract', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 3008 });
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0];
    const vars = fn?.Properties.Environment.Variables;
    expect(vars[ENV.MODEL_BUCKET]).toEqual({ Ref: expect.stringMatching(/^ModelStoreBucket/) });
    expect(vars[ENV.MAX_ELEMENTS]).toBe('5000');
    expect(vars[ENV.REGISTRY_TTL_SECONDS]).toBe('5');
    expect(vars[ENV.S3_ENDPOINT]).toBeUndefined();
  });

  it('grants no wildcard action, and a wildcard resource only where AWS requires one', () => {
    const statements = [
      ...Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
        (p) => p.Properties.PolicyDocument.Statement,
      ),
      ...Object.values(template.findResources('AWS::IAM::Role')).flatMap((r) =>
        (r.Properties.Policies ?? []).flatMap(
          (p: { PolicyDocument: { Statement: unknown[] } }) => p.PolicyDocument.Statement,
        ),
      ),
    ];
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      const actions = [statement.Action].flat();
      expect(
        actions.every((a: string) => !a.includes('*')),
        JSON.stringify(statement),
      ).toBe(true);
      if ([statement.Resource].flat().includes('*')) {
        // X-Ray's actions and CloudWatch Logs' log-delivery actions (Step Functions logging) have no
        // resource-level permissions; CDK's bucket-notification custom resource (deploy time only)
        // sets notifications with s3:PutBucketNotification on *. CloudWatch's metric reads (GET /v1/metrics)
        // have no resource type: ListMetrics is held to the namespace by a condition, GetMetricData cannot be.
        const allowed =
          /^(xray:|logs:(Create|Delete|Get|Update|List)LogDeliver|logs:Describe(LogGroups|ResourcePolicies)$|logs:PutResourcePolicy$|s3:PutBucketNotification$|cloudwatch:(GetMetricData|ListMetrics)$)/;
        expect(
          actions.every((a: string) => allowed.test(a)),
          JSON.stringify(statement),
        ).toBe(true);
      }
    }
  });

  it('gives every role that reads objects of the model bucket its key to decrypt, and every writer a data key', () => {
    const ids = (type: string, prefix: string) =>
      Object.keys(template.findResources(type)).find((id) => id.startsWith(prefix));
    // Object ARNs name the bucket by its Arn attribute or, as the Distributed Map's reader does, by its name.
    const bucketId = JSON.stringify(ids('AWS::S3::Bucket', 'ModelStoreBucket'));
    const keyArn = JSON.stringify({ 'Fn::GetAtt': [ids('AWS::KMS::Key', 'ModelStoreKey'), 'Arn'] });
    let checked = 0;
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      const statements = policy.Properties.PolicyDocument.Statement as Array<{
        Action: string | string[];
        Resource: unknown;
      }>;
      const actionsOn = (match: (resource: string) => boolean) =>
        new Set(
          statements.filter((st) => match(JSON.stringify(st.Resource))).flatMap((st) => [st.Action].flat()),
        );
      const s3 = actionsOn((r) => r.includes(bucketId));
      const kms = actionsOn((r) => r === keyArn);
      const roles = JSON.stringify(policy.Properties.Roles);
      if (s3.has('s3:GetObject')) expect(kms.has('kms:Decrypt'), roles).toBe(true);
      if (s3.has('s3:PutObject')) expect(kms.has('kms:GenerateDataKey'), roles).toBe(true);
      if (s3.has('s3:GetObject') || s3.has('s3:PutObject')) checked++;
    }
    // The api, batch, chunk and merge functions, and the state machine's item reader.
    expect(checked).toBeGreaterThanOrEqual(5);
  });

  it("encrypts every log group with the stack's rotating customer key, usable by CloudWatch Logs only", () => {
    const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThanOrEqual(6);
    for (const group of groups) {
      expect(group.Properties.KmsKeyId).toEqual({
        'Fn::GetAtt': [expect.stringMatching(/^LogEncryptionKey/), 'Arn'],
      });
    }
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
            Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Match.anyValue() } },
          }),
        ]),
      },
    });
  });

  it('passes cdk-nag AwsSolutions and HIPAA Security with every finding fixed or acknowledged', () => {
    const app = testApp();
    new ModelGateStack(app, 'Nagged', { config: parseConfig({}) });
    Validations.of(app).addPlugins(...nagPacks(app));
    const assembly = app.synth();
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'));
    const violations = report.pluginReports.flatMap((r: { violations?: unknown[] }) => r.violations ?? []);
    expect(violations).toEqual([]);
  });
});

describe('configuration', () => {
  it('ships a modelgate.config.json that validates', () => {
    const config = loadConfig(new URL('../../modelgate.config.json', import.meta.url).pathname);
    expect(config.usagePlans[0]?.name).toBe('standard');
    expect(config.apiKeys[0]).toEqual({ name: 'default', plan: 'standard' });
  });

  it('fills every default from an empty object', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({ stackName: 'ModelGate', stage: 'prod', logRetentionDays: 365 });
    expect(config.api.maxElements).toBe(1_000_000);
  });

  it('lists every problem with its path', () => {
    expect(() =>
      parseConfig({
        stage: 'has space',
        api: { memoryMiB: 64 },
        apiKeys: [{ name: 'k', plan: 'gold' }],
        extra: 1,
      }),
    ).toThrow(
      /stage: .*\n.*api.memoryMiB: .*\n.*apiKeys.0.plan: api key 'k' names plan 'gold', which is not in usagePlans/s,
    );
  });
});
