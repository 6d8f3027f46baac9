/**
 * Key-policy statements every customer-managed KMS key of the stack carries (Control Tower
 * CT.KMS.PR.3): grants on the key only for AWS resources or by AWS services.
 */
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

/**
 * Denies kms:CreateGrant to every principal unless the grant is for an AWS resource (a service
 * integrated with KMS asks on a caller's behalf) or the caller is an AWS service itself. No role
 * of this stack creates grants; the services that use these keys (S3, CloudWatch Logs, SNS,
 * SageMaker) encrypt with the key directly or create grants through their integration.
 */
export function limitGrantsToAwsServices(key: kms.Key): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'GrantsOnlyForAwsResources',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: {
        BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
      },
    }),
  );
}

/** A customer-managed key of the stack: rotated yearly, with the grant limit above. */
export function stackKey(
  scope: Construct,
  id: string,
  description: string,
  removalPolicy?: RemovalPolicy,
): kms.Key {
  const key = new kms.Key(scope, id, { description, enableKeyRotation: true, removalPolicy });
  limitGrantsToAwsServices(key);
  return key;
}
