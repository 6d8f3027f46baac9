/**
 * Batch files too large for one Lambda run: a Step Functions Distributed Map reads the object
 * with its native JSON Lines or CSV reader, a chunk function scores batches of rows, and a merge
 * function writes the same output and manifest as a one-run job.
 */
import { type CfnElement, Duration, RemovalPolicy, Size, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { ENV } from '../../functions/core/env.ts';
import { BATCH_NODE_OPTIONS, BATCH_PROCESS_ENVIRONMENT } from '../function-env.ts';
import { BATCH_PREFIXES } from './batch-predictions.ts';
import { grantBucketKey, grantListUnder, type ModelStore } from './model-store.ts';
import { NodeFunction } from './node-function.ts';

export interface LargeFileBatchesProps {
  readonly store: ModelStore;
  /** Entry modules of the chunk and merge functions. */
  readonly chunkEntry: string;
  readonly mergeEntry: string;
  /** Function environment (the model bucket is added by the store). */
  readonly environment?: Record<string, string>;
  /**
   * Memory of the chunk function.
   * @default - 3008 MiB
   */
  readonly memorySize?: number;
  /**
   * @default - 15 minutes
   */
  readonly timeout?: Duration;
  /**
   * @default - logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The Distributed Map path of batch predictions: the map hands batches of 20,000 items (each
 * with its index) to the chunk function, which scores them with the same code as one-run jobs
 * into ordered parts; the merge function then writes the output and manifest. A failed map
 * still ends in the merge, which records it.
 */
export class LargeFileBatches extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly chunkFunction: lambda.Function;
  public readonly mergeFunction: lambda.Function;

  constructor(scope: Construct, id: string, props: LargeFileBatchesProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.minutes(15);
    const bucket = props.store.bucket;
    const environment = { ...props.environment };
    const chunk = new NodeFunction(this, 'Chunk', {
      entry: props.chunkEntry,
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
    const merge = new NodeFunction(this, 'Merge', {
      entry: props.mergeEntry,
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
    // A CSV input is read once more by the merge, for records whose extra fields the CSV reader dropped.
    merge.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [bucket.arnForObjects(`${BATCH_PREFIXES.input}*`)],
      }),
    );
    grantBucketKey(bucket, chunk.function, 'write');
    grantBucketKey(bucket, merge.function, 'write');
    // The parts it joins, and the manifest it reads back (which may be gone: isMissingKey).
    grantListUnder(bucket, merge.function, BATCH_PREFIXES.output);
    // A missing input is told from a refused read by listing its key (isMissingKey).
    grantListUnder(bucket, merge.function, BATCH_PREFIXES.input);
    const bucketId = Stack.of(this).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    for (const [role, prefixes] of [
      [chunk.role, [`${BATCH_PREFIXES.output}.parts/`]],
      [merge.role, [`${BATCH_PREFIXES.output}.parts/`, BATCH_PREFIXES.output, BATCH_PREFIXES.input]],
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
      retention: props.logRetention ?? RetentionDays.ONE_YEAR,
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
    this.stateMachine = stateMachine;
    this.chunkFunction = chunk.function;
    this.mergeFunction = merge.function;
  }

  /**
   * Hands `fn`'s files over `threshold` to this path: the state machine's ARN and the
   * threshold in its environment, and the right to start executions, together.
   */
  bind(fn: lambda.Function, threshold: Size = Size.gibibytes(1)): iam.Grant {
    fn.addEnvironment(ENV.LARGE_BATCH_STATE_MACHINE, this.stateMachine.stateMachineArn);
    fn.addEnvironment(ENV.LARGE_BATCH_BYTES, String(threshold.toBytes()));
    return this.stateMachine.grantStartExecution(fn);
  }
}
