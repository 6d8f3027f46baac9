/**
 * The usage table: requests, rows and tokens per API key × day × model,
 * on-demand, encrypted with a key of its own, point-in-time recovery, TTL for old days.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ENV } from '../../functions/core/env.ts';
import { USAGE_PK, USAGE_SK, USAGE_TTL } from '../../functions/core/usage/table.ts';
import { stackKey } from '../key-policy.ts';

export interface UsageTableProps {
  /**
   * How long a day of usage is kept before DynamoDB's TTL deletes it (at least 1 day).
   * @default - 400 days
   */
  readonly retention?: Duration;
  /**
   * What happens to the table and its key when the stack is deleted.
   * @default - RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Actions the functions need on the table's key to read and write items. */
const KEY_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'];

export class UsageTable extends Construct {
  public readonly table: dynamodb.Table;
  /** The customer-managed key the table is encrypted with. */
  public readonly key: kms.Key;
  public readonly retention: Duration;

  constructor(scope: Construct, id: string, props: UsageTableProps = {}) {
    super(scope, id);
    this.retention = props.retention ?? Duration.days(400);
    if (this.retention.toHours() < 24 || this.retention.toHours() % 24 !== 0) {
      throw new Error(
        `retention must be a whole number of days, at least 1, got ${this.retention.toHumanString()}`,
      );
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.key = stackKey(
      this,
      'Key',
      'Encrypts the ModelGate usage table (usage per API key, model and day)',
      removalPolicy,
    );
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: USAGE_PK, type: dynamodb.AttributeType.STRING },
      sortKey: { name: USAGE_SK, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: USAGE_TTL,
      removalPolicy,
    });
    Validations.of(this.table).acknowledge({
      id: 'HIPAA.Security-DynamoDBInBackupPlan',
      reason:
        'Point-in-time recovery restores the table to any second of the last 35 days; usage older than that is billing history an operator exports, not state the service needs.',
    });
  }

  /**
   * Gives a function the table (env) and the rights to add to items and read
   * them back by key (`UpdateItem`, `Query`), nothing else, together.
   */
  bindRecorder(fn: { addEnvironment(key: string, value: string): unknown } & iam.IGrantable): iam.Grant {
    fn.addEnvironment(ENV.USAGE_TABLE, this.table.tableName);
    fn.addEnvironment(ENV.USAGE_RETENTION_DAYS, String(this.retention.toDays()));
    return iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['dynamodb:UpdateItem', 'dynamodb:Query'],
      resourceArns: [this.table.tableArn],
    }).combine(
      iam.Grant.addToPrincipal({ grantee: fn, actions: KEY_ACTIONS, resourceArns: [this.key.keyArn] }),
    );
  }
}
