import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ENV } from '../../functions/core/env.ts';

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
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access log bucket itself; logging it into itself would loop.',
    });
    Validations.of(this.accessLogBucket).acknowledge({
      id: 'HIPAA.Security-S3DefaultEncryptionKMS',
      reason: 'S3 server access logs can be delivered only to a bucket encrypted with SSE-S3, not SSE-KMS.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
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
    Validations.of(this.bucket).acknowledge({
      id: 'HIPAA.Security-S3DefaultEncryptionKMS',
      reason:
        'Objects are encrypted at rest with SSE-S3 (AES-256) and reachable only through TLS by the roles granted a prefix; a customer-managed key would also have to be granted to SageMaker, Step Functions and every uploader, and is not yet offered.',
    });
    for (const bucket of [this.accessLogBucket, this.bucket]) {
      Validations.of(bucket).acknowledge({
        id: 'HIPAA.Security-S3BucketReplicationEnabled',
        reason:
          'Replication needs a destination bucket in a second region, which a single-region stack does not own; both buckets are versioned, so an operator can add a replication rule to a bucket of their own.',
      });
    }
  }

  /**
   * Lets `grantee` read the registry (`models/*`) and nothing else in the bucket.
   */
  grantReadModels(grantee: iam.IGrantable): void {
    if (grantee.grantPrincipal instanceof Construct) {
      const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
      Validations.of(grantee.grantPrincipal).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${MODELS_PREFIX}*]`,
        reason:
          'Read-only access to the model registry prefix; model names and versions are created at run time.',
      });
    }
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects(`${MODELS_PREFIX}*`)],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${MODELS_PREFIX}*`] } },
      }),
    );
  }

  /** Gives a function the bucket name and read access to the registry, together. */
  bindModels(fn: { addEnvironment(key: string, value: string): unknown } & iam.IGrantable): void {
    fn.addEnvironment(ENV.MODEL_BUCKET, this.bucket.bucketName);
    this.grantReadModels(fn);
  }
}
