/**
 * AWS CloudFormation Guard on synth: the AWS Control Tower proactive controls, run offline by the
 * cfn-guard binary `@cdklabs/cdk-validator-cfnguard` ships, and the ids to acknowledge its rules by.
 */
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import type { IPolicyValidationPlugin } from 'aws-cdk-lib';

/** The plugin's name: the namespace of its rule ids in acknowledgements and the validation report. */
export const GUARD_PLUGIN = 'cdk-validator-cfnguard';

/** The Control Tower rules this project acknowledges somewhere, by their Guard rule names. */
export const GUARD_RULES = {
  logRetention: 'cloudwatch_log_group_retention_period_check',
  lambdaPermission: 'lambda_function_public_access_prohibited_check',
  lambdaVpc: 'lambda_inside_vpc_check',
  bucketKms: 's3_bucket_default_encryption_kms_check',
  bucketLogging: 's3_bucket_logging_enabled_check',
  bucketNotifications: 's3_event_notifications_enabled_check',
  bucketObjectLock: 's3_bucket_object_lock_enabled_check',
  queueDeadLetters: 'sqs_dlq_check',
} as const;

/** The id `Validations.of(scope).acknowledge({ id, reason })` takes for a Guard rule. */
export function guardRule(rule: (typeof GUARD_RULES)[keyof typeof GUARD_RULES]): string {
  return `${GUARD_PLUGIN}::${rule}`;
}

/**
 * The whole Control Tower pack, no rule disabled: findings are fixed in the constructs or
 * acknowledged beside the resource with a reason (docs/RELIABILITY.md lists them).
 */
export function guardPack(): IPolicyValidationPlugin {
  // The plugin implements the Beta1 interface; `Validations.addPlugins` and `new App({
  // policyValidationBeta1 })` fill the same list of the App, and synth fails on any unacknowledged finding.
  // Guard answers with every rule of the pack for every resource: ~0.9 MB on the maximal
  // example, against the 1 MiB default buffer; a larger template must not end synth with ENOBUFS.
  return new CfnGuardValidator({ controlTowerRulesEnabled: true, maxBuffer: 64 * 1024 * 1024 });
}
