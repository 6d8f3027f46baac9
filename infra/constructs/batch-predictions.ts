import { type CfnElement, Duration, RemovalPolicy, Size, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ENV } from '../../functions/core/env.ts';
import { BATCH_NODE_OPTIONS, BATCH_PROCESS_ENVIRONMENT } from '../function-env.ts';
import { InferenceFunction } from './inference-function.ts';
import { grantBucketKey, type ModelStore } from './model-store.ts';

/** Prefixes of the batch layout in the model bucket. */
export const BATCH_PREFIXES = { input: 'batch/input/', output: 'batch/output/' } as const;

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
   * @default - logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /** Entry modules of the distributed path's chunk and merge functions. */
  readonly distributed: { readonly chunkEntry: string; readonly mergeEntry: string };
  /**
   * Input files larger than this go to a Step Functions Distributed Map instead of one run.
   * @default - Size.gibibytes(1)
   */
  readonly largeFileThreshold?: Size;
}

/**
 * Event-triggered batch predictions: objects created under `batch/input/`
 * notify an encrypted, SSL-only SQS queue (redrive to a dead-letter queue),
 * which feeds the batch function one job per message with partial batch
 * failure reporting. Alarms watch the dead-letter queue and function errors.
 */
export class BatchPredictions extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly function: InferenceFunction;
  public readonly dlqAlarm: cloudwatch.Alarm;
  public readonly errorsAlarm: cloudwatch.Alarm;
  /** Scores files above the threshold: Distributed Map over the object, chunk function, merge function. */
  public readonly stateMachine: sfn.StateMachine;
  public readonly chunkFunction: InferenceFunction;
  public readonly mergeFunction: InferenceFunction;
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
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue of the batch queue; an alarm fires on its first message.',
    });
    this.queue = new sqs.Queue(this, 'Jobs', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's guidance for Lambda event sources: at least six times the function timeout.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });

    this.function = new InferenceFunction(this, 'Function', {
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
    const fn = this.function.function;
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
    const bucketId = Stack.of(this).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    for (const prefix of Object.values(BATCH_PREFIXES)) {
      Validations.of(this.function.role).acknowledge({
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
      Validations.of(notifications).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'CDK’s own bucket-notification custom resource runs only at deploy time; its role comes with the construct.',
      });
      Validations.of(notifications).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'CDK’s bucket-notification custom resource needs s3:PutBucketNotification, which it grants on * by design.',
      });
    }

    this.bucket = bucket;
    const distributed = this.distributedRun(props, bucket, timeout);
    this.stateMachine = distributed.stateMachine;
    this.chunkFunction = distributed.chunk;
    this.mergeFunction = distributed.merge;
    fn.addEnvironment(ENV.LARGE_BATCH_STATE_MACHINE, this.stateMachine.stateMachineArn);
    fn.addEnvironment(
      ENV.LARGE_BATCH_BYTES,
      String((props.largeFileThreshold ?? Size.gibibytes(1)).toBytes()),
    );
    this.stateMachine.grantStartExecution(fn);

    this.dlqAlarm = new cloudwatch.Alarm(this, 'DeadLettersAlarm', {
      alarmDescription: 'A batch job failed every retry: its message is in the dead-letter queue.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.errorsAlarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription: 'The batch function failed (a job will be retried).',
      metric: fn.metricErrors({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * Files too large for one run: a Distributed Map reads the object with its
   * native JSONL or CSV reader, hands batches of items (each with its index)
   * to the chunk function, which scores them with the same code as one-run
   * jobs into ordered parts; the merge function then writes the same output
   * and manifest. A failed map still ends in the merge, which records it.
   */
  private distributedRun(props: BatchPredictionsProps, bucket: s3.IBucket, timeout: Duration) {
    const environment = { ...props.environment };
    const chunk = new InferenceFunction(this, 'Chunk', {
      entry: props.distributed.chunkEntry,
      description: 'ModelGate batch chunk function (Distributed Map item batches)',
      memorySize: props.memorySize ?? 3008,
      timeout,
      ...(props.logRetention && { logRetention: props.logRetention }),
      nodeOptions: BATCH_NODE_OPTIONS,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'modelgate-batch-chunk',
        ...BATCH_PROCESS_ENVIRONMENT,
        ...environment,
      },
    });
    const merge = new InferenceFunction(this, 'Merge', {
      entry: props.distributed.mergeEntry,
      description: 'ModelGate batch merge function (parts to output and manifest)',
      onnxRuntime: false,
      memorySize: 1024,
      timeout,
      ...(props.logRetention && { logRetention: props.logRetention }),
      environment: { POWERTOOLS_SERVICE_NAME: 'modelgate-batch-merge', ...environment },
    });
    props.store.bindModels(chunk.function);
    merge.function.addEnvironment(ENV.MODEL_BUCKET, bucket.bucketName);
    const parts = bucket.arnForObjects(`${BATCH_PREFIXES.output}.parts/*`);
    chunk.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [parts] }),
    );
    merge.function.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:DeleteObject'], resources: [parts] }),
    );
    merge.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
        resources: [bucket.arnForObjects(`${BATCH_PREFIXES.output}*`)],
      }),
    );
    grantBucketKey(bucket, chunk.function, 'write');
    grantBucketKey(bucket, merge.function, 'write');
    merge.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${BATCH_PREFIXES.output}.parts/*`] } },
      }),
    );
    const bucketId = Stack.of(this).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    for (const [role, prefixes] of [
      [chunk.role, [`${BATCH_PREFIXES.output}.parts/`]],
      [merge.role, [`${BATCH_PREFIXES.output}.parts/`, BATCH_PREFIXES.output]],
    ] as const) {
      for (const prefix of prefixes) {
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
          reason: 'Parts and outputs of batch jobs have names derived from files data teams name themselves.',
        });
      }
    }

    const map = (format: 'jsonl' | 'csv') =>
      new sfn.DistributedMap(this, `Map${format.toUpperCase()}`, {
        itemReader:
          format === 'csv'
            ? new sfn.S3CsvItemReader({
                bucket,
                key: sfn.JsonPath.stringAt('$.inputKey'),
                csvHeaders: sfn.CsvHeaders.useFirstRow(),
              })
            : new sfn.S3JsonLItemReader({ bucket, key: sfn.JsonPath.stringAt('$.inputKey') }),
        itemSelector: {
          'index.$': '$$.Map.Item.Index',
          'value.$': '$$.Map.Item.Value',
        },
        itemBatcher: new sfn.ItemBatcher({
          maxItemsPerBatch: 20_000,
          batchInput: { 'jobId.$': '$.jobId', 'inputKey.$': '$.inputKey', format },
        }),
        maxConcurrency: 40,
        resultPath: sfn.JsonPath.DISCARD,
      }).itemProcessor(
        new tasks.LambdaInvoke(this, `ScoreItems${format.toUpperCase()}`, {
          lambdaFunction: chunk.function,
          payloadResponseOnly: true,
          retryOnServiceExceptions: true,
        }),
      );
    const mergeStep = (id: string) =>
      new tasks.LambdaInvoke(this, id, {
        lambdaFunction: merge.function,
        payloadResponseOnly: true,
        retryOnServiceExceptions: true,
      });
    const merged = mergeStep('MergeParts');
    const mergeFailure = mergeStep('MergePartsAfterFailure');
    const csvMap = map('csv').addCatch(mergeFailure, { resultPath: '$.error' });
    const jsonlMap = map('jsonl').addCatch(mergeFailure, { resultPath: '$.error' });
    const definition = new sfn.Choice(this, 'Format')
      .when(sfn.Condition.stringEquals('$.format', 'csv'), csvMap.next(merged))
      .otherwise(jsonlMap.next(merged));
    const logs = new LogGroup(this, 'StateMachineLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stateMachine = new sfn.StateMachine(this, 'LargeFiles', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      tracingEnabled: true,
      logs: { destination: logs, level: sfn.LogLevel.ALL },
      timeout: Duration.hours(12),
    });
    // The item reader reads the input file itself.
    grantBucketKey(bucket, stateMachine, 'read');
    // The statements below are the ones CDK writes for a Distributed Map; each wildcard has its reason.
    const stack = Stack.of(this);
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    const machineId = stack.getLogicalId(stateMachine.node.defaultChild as sfn.CfnStateMachine);
    const execution = `arn:<AWS::Partition>:states:${region}:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${machineId}"}]}]}`;
    const findings: Array<[string, string]> = [
      ['Resource::*', 'Step Functions log delivery and X-Ray actions have no resource-level permissions.'],
      [
        `Resource::arn:<AWS::Partition>:s3:::<${stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}>/*`,
        'The item reader reads the input file named at run time (read-only); CDK grants it on the bucket’s objects.',
      ],
      [
        `Resource::<${stack.getLogicalId(chunk.function.node.defaultChild as CfnElement)}.Arn>:*`,
        'Invoking the chunk function’s versions.',
      ],
      [
        `Resource::<${stack.getLogicalId(merge.function.node.defaultChild as CfnElement)}.Arn>:*`,
        'Invoking the merge function’s versions.',
      ],
      [
        `Resource::${execution}:*`,
        'The Distributed Map manages its own child executions, whose names are generated.',
      ],
      [
        `Resource::${execution}/*:*`,
        'The Distributed Map manages its own child executions, whose names are generated.',
      ],
    ];
    for (const [finding, reason] of findings) {
      Validations.of(stateMachine).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    }
    return { stateMachine, chunk, merge };
  }

  /**
   * Lets `grantee` start jobs (copy objects within batch/input/) and read their
   * manifests: what `POST /v1/batches` and `GET /v1/batches/{id}` need.
   */
  grantSubmit(grantee: iam.IGrantable): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [this.bucket.arnForObjects(`${BATCH_PREFIXES.input}*`)],
      }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects(`${BATCH_PREFIXES.output}*`)],
      }),
    );
    grantBucketKey(this.bucket, grantee, 'write');
    if (grantee.grantPrincipal instanceof Construct) {
      const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
      for (const prefix of Object.values(BATCH_PREFIXES)) {
        Validations.of(grantee.grantPrincipal).acknowledge({
          id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
          reason: `Batch jobs are files data teams name themselves, under ${prefix} only.`,
        });
      }
    }
  }
}
