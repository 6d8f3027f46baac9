/**
 * The model store: the model registry's S3 bucket (versioned, KMS-encrypted, private, access-logged) and
 * the grants to read its models.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ENV } from '../../functions/core/env.ts';
import { GUARD_RULES, guardRule } from '../checks/guard.ts';
import { stackKey } from '../key-policy.ts';

export interface ModelStoreProps {
  /**
   * How long a replaced or deleted object version is kept.
   * @default - 30 days
   */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * How long server access logs are kept.
   * @default - 90 days
   */
  readonly accessLogExpiration?: Duration;
  /**
   * What happens to the buckets when the stack is deleted.
   * @default - RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** The S3 prefix of the model registry. */
export const MODELS_PREFIX = 'models/';

/**
 * The model registry's bucket: versioned, encrypted, private, SSL-only, with
 * server access logs in a bucket of their own and old object versions expired.
 */
export class ModelStore extends Construct {
  public readonly bucket: s3.Bucket;
  /** The customer-managed key of the model bucket: whoever reads or writes objects needs it too. */
  public readonly key: kms.Key;
  public readonly accessLogBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: ModelStoreProps = {}) {
    super(scope, id);
    const noncurrent = props.noncurrentVersionExpiration ?? Duration.days(30);
    const logExpiration = props.accessLogExpiration ?? Duration.days(90);
    if (noncurrent.toHours() < 24) {
      throw new Error(
        `noncurrentVersionExpiration must be at least 1 day, got ${noncurrent.toHumanString()}`,
      );
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const autoDeleteObjects = removalPolicy === RemovalPolicy.DESTROY;

    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Versioned so that a deleted or overwritten log stays recoverable until it expires.
      versioned: true,
      lifecycleRules: [{ expiration: logExpiration, noncurrentVersionExpiration: noncurrent }],
      removalPolicy,
      autoDeleteObjects,
    });
    const selfLogging = 'This is the access log bucket itself; logging it into itself would loop.';
    const sseS3Only =
      'S3 server access logs can be delivered only to a bucket encrypted with SSE-S3, not SSE-KMS.';
    Validations.of(this.accessLogBucket).acknowledge(
      { id: 'AwsSolutions-S1', reason: selfLogging },
      { id: guardRule(GUARD_RULES.bucketLogging), reason: selfLogging },
      { id: 'HIPAA.Security-S3DefaultEncryptionKMS', reason: sseS3Only },
      { id: guardRule(GUARD_RULES.bucketKms), reason: sseS3Only },
      {
        id: guardRule(GUARD_RULES.bucketNotifications),
        reason:
          'Nothing acts on a new access log object: logs are read when someone investigates, and they expire with the lifecycle rule.',
      },
      {
        id: guardRule(GUARD_RULES.bucketObjectLock),
        reason:
          'Object Lock protects only with a retention, and a default retention would keep every log version for its period, against the lifecycle rule that expires logs (accessLogExpirationDays) and against removalPolicy destroy. Versioning keeps an overwritten or deleted log recoverable until it expires; write-once log archives belong to an account-level log archive, not this stack.',
      },
    );

    this.key = stackKey(
      this,
      'Key',
      'Encrypts the ModelGate model bucket (models, batch files, data capture)',
      removalPolicy,
    );
    this.bucket = new s3.Bucket(this, 'Bucket', {
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      // One data key per object prefix and period instead of a KMS call per object.
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'model-bucket/',
      lifecycleRules: [
        { noncurrentVersionExpiration: noncurrent, abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
      removalPolicy,
      autoDeleteObjects,
    });
    for (const bucket of [this.accessLogBucket, this.bucket]) {
      Validations.of(bucket).acknowledge({
        id: 'HIPAA.Security-S3BucketReplicationEnabled',
        reason:
          'Replication needs a destination bucket in a second region, which a single-region stack does not own; both buckets are versioned, so an operator can add a replication rule to a bucket of their own.',
      });
    }
    // removalPolicy destroy empties the buckets with a provider function CDK adds to the stack.
    const autoDelete = Stack.of(this).node.tryFindChild('Custom::S3AutoDeleteObjectsCustomResourceProvider');
    if (autoDelete) {
      Validations.of(autoDelete).acknowledge({
        id: guardRule(GUARD_RULES.lambdaVpc),
        reason:
          'CDK’s auto-delete-objects provider runs only when the stack deletes a bucket (removalPolicy destroy) and calls the S3 API alone; it comes with the construct, outside any VPC.',
      });
    }
    Validations.of(this.bucket).acknowledge(
      {
        id: guardRule(GUARD_RULES.bucketObjectLock),
        reason:
          'A default Object Lock retention would keep every object version for its period, against the lifecycle rule that expires replaced model versions and against removalPolicy destroy; without a default retention Object Lock protects nothing. Versioning keeps a replaced or deleted model recoverable until it expires.',
      },
      {
        id: guardRule(GUARD_RULES.bucketNotifications),
        reason:
          'New files under batch/input/ notify the batch queue through CDK’s Custom::S3BucketNotifications resource (BatchPredictions), which sets the bucket’s notifications at deploy time; the rule reads only the NotificationConfiguration property of the template.',
      },
    );
  }

  /**
   * Lets `grantee` read the registry (`models/*`) and nothing else in the bucket.
   */
  grantReadModels(grantee: iam.IGrantable): iam.Grant {
    if (grantee.grantPrincipal instanceof Construct) {
      const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
      Validations.of(grantee.grantPrincipal).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${MODELS_PREFIX}*]`,
        reason:
          'Read-only access to the model registry prefix; model names and versions are created at run time.',
      });
    }
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject'],
      resourceArns: [this.bucket.arnForObjects(`${MODELS_PREFIX}*`)],
    })
      .combine(grantListUnder(this.bucket, grantee, MODELS_PREFIX))
      .combine(grantBucketKey(this.bucket, grantee, 'read'));
  }

  /** Gives a function the bucket name and read access to the registry, together. */
  bindModels(fn: { addEnvironment(key: string, value: string): unknown } & iam.IGrantable): iam.Grant {
    fn.addEnvironment(ENV.MODEL_BUCKET, this.bucket.bucketName);
    return this.grantReadModels(fn);
  }
}

/** Lets `grantee` list the keys under `prefix` (and no others) of a bucket. */
export function grantListUnder(bucket: s3.IBucket, grantee: iam.IGrantable, prefix: string): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:ListBucket'],
    resourceArns: [bucket.bucketArn],
    conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
  });
}

/**
 * The KMS permissions that go with reading or writing objects of a bucket
 * encrypted with a customer-managed key (none for other buckets): decrypt to
 * read, and a data key to write (multipart uploads read their parts back too).
 */
export function grantBucketKey(
  bucket: s3.IBucket,
  grantee: iam.IGrantable,
  access: 'read' | 'write',
): iam.Grant {
  if (!bucket.encryptionKey) return iam.Grant.drop(grantee, 'the bucket has no customer-managed key');
  return iam.Grant.addToPrincipal({
    grantee,
    actions: access === 'read' ? ['kms:Decrypt'] : ['kms:Decrypt', 'kms:GenerateDataKey'],
    resourceArns: [bucket.encryptionKey.keyArn],
  });
}
