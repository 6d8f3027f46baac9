/**
 * The ModelStore construct in a synthesized template: a versioned, KMS-encrypted, private, TLS-only model bucket
 * and its access-log bucket, retention and lifecycle, read grants on models/* only, and refused props.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { ModelStore } from '../../infra/constructs/model-store.ts';
import { bareStack } from './helpers.ts';

function store(props = {}) {
  const stack = bareStack();
  const construct = new ModelStore(stack, 'Store', props);
  return { stack, construct, template: Template.fromStack(stack) };
}

describe('ModelStore', () => {
  it('makes the model bucket versioned, encrypted with its own rotating key, private, and logging to its own log bucket', () => {
    const { template } = store();
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            ServerSideEncryptionByDefault: {
              SSEAlgorithm: 'aws:kms',
              KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StoreKey'), 'Arn'] },
            },
            BucketKeyEnabled: true,
          },
        ],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'model-bucket/' },
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            Status: 'Enabled',
          }),
        ],
      },
    });
  });

  it('keeps access logs versioned and expires them, old versions included', () => {
    const { template } = store({ accessLogExpiration: Duration.days(90) });
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: Match.absent(),
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({ ExpirationInDays: 90, NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
        ],
      },
    });
  });

  it('denies every request that is not over TLS, on both buckets', () => {
    const { template } = store();
    const policies = template.findResources('AWS::S3::BucketPolicy');
    expect(Object.keys(policies)).toHaveLength(2);
    for (const policy of Object.values(policies)) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Principal: { AWS: '*' },
        }),
      );
    }
  });

  it('keeps the log bucket private and encrypted, and expires logs', () => {
    const { template } = store({ accessLogExpiration: Duration.days(10) });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 10 })] },
      BucketEncryption: Match.anyValue(),
      PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicAcls: true }),
    });
  });

  it('retains buckets by default and deletes them only when told', () => {
    expect(
      Object.values(store().template.findResources('AWS::S3::Bucket')).map((b) => b.DeletionPolicy),
    ).toEqual(['Retain', 'Retain']);
    const destroyed = store({ removalPolicy: RemovalPolicy.DESTROY }).template;
    expect(Object.values(destroyed.findResources('AWS::S3::Bucket')).map((b) => b.DeletionPolicy)).toEqual([
      'Delete',
      'Delete',
    ]);
  });

  it('grants read access to models/* only, and decryption with the bucket key', () => {
    const stack = bareStack();
    const construct = new ModelStore(stack, 'Store');
    const role = new iam.Role(stack, 'Reader', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    construct.grantReadModels(role);
    const statements = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    const doc = Object.values(statements)[0]?.Properties.PolicyDocument.Statement;
    expect(doc).toEqual([
      {
        Action: 's3:GetObject',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.any(String), 'Arn'] }, '/models/*']] },
      },
      {
        Action: 's3:ListBucket',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.any(String), 'Arn'] },
        Condition: { StringLike: { 's3:prefix': ['models/*'] } },
      },
      {
        Action: 'kms:Decrypt',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [expect.stringMatching(/^StoreKey/), 'Arn'] },
      },
    ]);
  });

  it('refuses a noncurrent expiration under a day', () => {
    expect(() => store({ noncurrentVersionExpiration: Duration.hours(2) })).toThrow(
      /noncurrentVersionExpiration must be at least 1 day, got 2 hours/,
    );
  });
});
