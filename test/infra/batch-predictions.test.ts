/**
 * The BatchPredictions construct in the synthesized ModelGate template: S3 events to an encrypted TLS-only queue
 * with a dead-letter queue, the batch function's trigger, settings and least-privilege bucket access.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { modelGateTemplate, s3Grants } from './helpers.ts';

const { template } = modelGateTemplate();

describe('BatchPredictions', () => {
  it('sends object-created events under batch/input/ to the queue', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'batch/input/' }] } },
            QueueArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BatchJobs'), 'Arn'] },
          },
        ],
      },
    });
  });

  it('has an encrypted job queue with a visibility timeout of six function timeouts and a redrive to a dead-letter queue', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 6 * 900,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BatchDeadLetters'), 'Arn'] },
        maxReceiveCount: 3,
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it('refuses anything but TLS on both queues', () => {
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
    const denies = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s) => s.Effect === 'Deny');
    expect(denies).toHaveLength(2);
    for (const deny of denies) expect(deny.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
  });

  it('feeds the batch function one message at a time with partial batch failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^BatchJobs'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('batch function'),
      Timeout: 900,
      MemorySize: 3008,
    });
  });

  it('runs the batch and chunk functions with their young generation and two malloc arenas', () => {
    for (const description of ['batch function', 'batch chunk function']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp(description),
        Environment: {
          Variables: Match.objectLike({
            NODE_OPTIONS: '--enable-source-maps --max-semi-space-size=8',
            MALLOC_ARENA_MAX: '2',
          }),
        },
      });
    }
  });

  it('lets the batch function read batch/input/*, write batch/output/*, read models/*, list those prefixes only, and nothing else in the bucket', () => {
    // Every (action, place) pair granted, whatever way the statements were merged.
    const pairs = s3Grants(template, 'BatchFunction', ['models', 'batch/input', 'batch/output']);
    expect(pairs).toEqual([
      's3:AbortMultipartUpload batch/output/*',
      's3:GetObject batch/input/*',
      's3:GetObject batch/output/*',
      's3:GetObject models/*',
      // A manifest or input that may be gone: S3 answers 403, and listing exactly that key tells absence apart.
      's3:ListBucket batch/input/*',
      's3:ListBucket batch/output/*',
      's3:ListBucket models/*',
      's3:PutObject batch/output/*',
    ]);
  });

  it('lets the api function list only the prefixes where it reads keys that may not exist yet', () => {
    const listed = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('InferenceRole'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
      .filter((s: { Action: string | string[] }) => [s.Action].flat().includes('s3:ListBucket'))
      .flatMap((s: { Condition?: { StringLike?: Record<string, string[]> } }) => {
        const prefixes = s.Condition?.StringLike?.['s3:prefix'];
        expect(prefixes, 'every listing of the bucket is limited to prefixes').toBeDefined();
        return prefixes ?? [];
      });
    expect(listed.sort()).toEqual([
      'batch/input/*',
      'batch/jobs/*',
      'batch/keys/*',
      'batch/output/*',
      'models/*',
    ]);
  });
});
