/**
 * Log encryption: a customer-managed KMS key for every CloudWatch log group of the stack, set on each log
 * group by an aspect.
 */
import { Aspects, type IAspect, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IConstruct } from 'constructs';
import { stackKey } from '../key-policy.ts';

/**
 * A customer-managed key for every CloudWatch log group of the stack it is
 * added to. An aspect sets the key on each log group, so log groups created
 * later (by any construct) are encrypted as well.
 */
export class LogEncryption extends Construct {
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = stackKey(this, 'Key', 'Encrypts the ModelGate CloudWatch log groups');
    // CloudWatch Logs uses the key on behalf of this account's log groups only.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
          },
        },
      }),
    );
    Aspects.of(stack).add(new EncryptLogGroups(this.key));
  }
}

class EncryptLogGroups implements IAspect {
  constructor(private readonly key: kms.IKey) {}

  visit(node: IConstruct): void {
    if (node instanceof logs.CfnLogGroup && node.kmsKeyId === undefined) {
      node.kmsKeyId = this.key.keyArn;
      node.node.addDependency(this.key);
    }
  }
}
