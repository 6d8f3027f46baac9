/**
 * Every check `cdk synth` runs on the app (infra/app.ts), in one list so the template tests run
 * exactly these: cdk-nag's AWS Solutions and HIPAA packs, the function asset checks, and
 * CloudFormation Guard's Control Tower rules.
 */
import type { App, IPolicyValidationPlugin } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { FunctionAssetChecks } from './function-assets.ts';
import { guardPack } from './guard.ts';

/** The policy validation plugins of a synth, for `Validations.of(app).addPlugins(...)`. */
export function synthChecks(app: App): IPolicyValidationPlugin[] {
  return [...nagPacks(app), new FunctionAssetChecks(), guardPack()];
}

/** cdk-nag's packs among them: AWS Solutions and HIPAA. */
export function nagPacks(app: App): IPolicyValidationPlugin[] {
  return [new AwsSolutionsChecks(app), new HIPAASecurityChecks(app)];
}
