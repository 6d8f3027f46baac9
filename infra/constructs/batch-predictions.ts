/** Event-triggered batch predictions: S3 drops under batch/input/ → SQS → the batch function. */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { BATCH_INPUT, BATCH_JOBS, BATCH_KEYS, BATCH_OUTPUT } from '../../functions/core/batch/layout.ts';
import { GUARD_RULES, guardRule } from '../checks/guard.ts';
import { BATCH_NODE_OPTIONS, BATCH_PROCESS_ENVIRONMENT } from '../function-env.ts';
import { grantBucketKey, grantListUnder, type ModelStore } from './model-store.ts';
import { NodeFunction } from './node-function.ts';

/** Prefixes of the batch layout in the model bucket. */
export const BATCH_PREFIXES = { input: BATCH_INPUT, output: BATCH_OUTPUT } as const;

export interface BatchPredictionsProps {
  readonly store: ModelStore;
  /** Entry module of the batch function. */
  readonly entry: string;
  /** Function environment (the model bucket is added by the store). */
  readonly environment?: Record<string, string>;
  /**
   * @default - 3008 MiB
   */
  readonly memorySize?: number;
  /**
   * @default - 15 minutes
   */
  readonly timeout?: Duration;
  /**
   * Receives before a failing message goes to the dead-letter queue.
   * @default - 3
   */
  readonly maxReceiveCount?: number;
  /**
   * @default - logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Event-triggered batch predictions: objects created under `batch/input/`
 * notify an encrypted, SSL-only SQS queue (redrive to a dead-letter queue),
 * which feeds the batch function one job per message with partial batch
 * failure reporting. Files too large for one run go to {@link LargeFileBatches}
 * (wired by the stack); alarms on the queues and the function live in Monitoring.
 */
export class BatchPredictions extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  private readonly bucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: BatchPredictionsProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.minutes(15);
    const maxReceiveCount = props.maxReceiveCount ?? 3;
    if (maxReceiveCount < 1 || maxReceiveCount > 1000) {
      throw new Error(`maxReceiveCount must be 1-1000, got ${maxReceiveCount}`);
    }

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    const deadLetters =
      'This is the dead-letter queue of the batch queue; an alarm fires on its first message.';
    Validations.of(this.deadLetterQueue).acknowledge(
      { id: 'AwsSolutions-SQS3', reason: deadLetters },
      { id: guardRule(GUARD_RULES.queueDeadLetters), reason: deadLetters },
    );
    this.queue = new sqs.Queue(this, 'Jobs', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's guidance for Lambda event sources: at least six times the function timeout.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });

    const batchFunction = new NodeFunction(this, 'Function', {
      entry: props.entry,
      description: 'ModelGate batch function (S3 drops, scored in micro-batches)',
      memorySize: props.memorySize ?? 3008,
      timeout,
      ...(props.logRetention && { logRetention: props.logRetention }),
      nodeOptions: BATCH_NODE_OPTIONS,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'modelgate-batch',
        ...BATCH_PROCESS_ENVIRONMENT,
        ...props.environment,
      },
    });
    const fn = batchFunction.function;
    this.function = fn;
    this.role = batchFunction.role;
    props.store.bindModels(fn);
    const bucket = props.store.bucket;
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${BATCH_PREFIXES.input}*`)],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
        resources: [bucket.arnForObjects(`${BATCH_PREFIXES.output}*`)],
      }),
    );
    grantBucketKey(bucket, fn, 'write');
    // A job reads its earlier manifest and its input, which may be gone: S3 then answers 403, and
    // listing exactly that key, allowed under these prefixes, tells absence apart (isMissingKey).
    grantListUnder(bucket, fn, BATCH_PREFIXES.output);
    grantListUnder(bucket, fn, BATCH_PREFIXES.input);
    const bucketId = Stack.of(this).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    for (const prefix of Object.values(BATCH_PREFIXES)) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
        reason: `Batch jobs read and write files data teams name themselves, under ${prefix} only.`,
      });
    }
    fn.addEventSource(new SqsEventSource(this.queue, { batchSize: 1, reportBatchItemFailures: true }));

    bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(this.queue), {
      prefix: BATCH_PREFIXES.input,
    });
    // CDK configures bucket notifications with a singleton custom resource of its own.
    const notifications = Stack.of(this).node.tryFindChild(
      'BucketNotificationsHandler050a0587b7544547bf325f094a3db834',
    );
    if (notifications) {
      Validations.of(notifications).acknowledge(
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason:
            'CDK’s own bucket-notification custom resource runs only at deploy time; its role comes with the construct.',
        },
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'CDK’s bucket-notification custom resource needs s3:PutBucketNotification, which it grants on * by design.',
        },
        {
          id: guardRule(GUARD_RULES.lambdaVpc),
          reason:
            'CDK’s bucket-notification custom resource runs only at deploy time and calls the S3 API alone; it comes with the construct, outside any VPC.',
        },
      );
    }

    this.bucket = bucket;
  }

  /**
   * Lets `grantee` start jobs for API keys (read a key's files under
   * batch/keys/, record the job under batch/jobs/, copy the file into
   * batch/input/) and read their records, manifests and outputs: what `POST /v1/batches`,
   * `GET /v1/batches`, `GET /v1/batches/{id}` and `GET /v1/batches/{id}/errors` need.
   */
  grantSubmit(grantee: iam.IGrantable): iam.Grant {
    if (grantee.grantPrincipal instanceof Construct) {
      const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
      for (const prefix of [...Object.values(BATCH_PREFIXES), BATCH_KEYS, BATCH_JOBS]) {
        Validations.of(grantee.grantPrincipal).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
          reason: `Batch jobs are files data teams name themselves, under ${prefix} only.`,
        });
      }
    }
    return (
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:GetObject', 's3:PutObject'],
        resourceArns: [this.bucket.arnForObjects(`${BATCH_PREFIXES.input}*`)],
      })
        .combine(
          iam.Grant.addToPrincipal({
            grantee,
            actions: ['s3:GetObject'],
            resourceArns: [
              this.bucket.arnForObjects(`${BATCH_PREFIXES.output}*`),
              this.bucket.arnForObjects(`${BATCH_KEYS}*`),
            ],
          }),
        )
        .combine(
          iam.Grant.addToPrincipal({
            grantee,
            actions: ['s3:GetObject', 's3:PutObject'],
            resourceArns: [this.bucket.arnForObjects(`${BATCH_JOBS}*`)],
          }),
        )
        .combine(grantListUnder(this.bucket, grantee, BATCH_JOBS))
        // Reads of files, manifests and outputs that may not exist yet (isMissingKey).
        .combine(grantListUnder(this.bucket, grantee, BATCH_PREFIXES.output))
        .combine(grantListUnder(this.bucket, grantee, BATCH_PREFIXES.input))
        .combine(grantListUnder(this.bucket, grantee, BATCH_KEYS))
        .combine(grantBucketKey(this.bucket, grantee, 'write'))
    );
  }
}
