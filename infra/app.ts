/**
 * The CDK app: the ModelGate stack from `modelgate.config.json` (or `-c config=PATH`), checked by cdk-nag's
 * AWS Solutions and HIPAA rules, the function asset checks and CloudFormation Guard (checks/synth-checks.ts).
 */
import { App, Validations } from 'aws-cdk-lib';
import { synthChecks } from './checks/synth-checks.ts';
import { loadConfig } from './config.ts';
import { ModelGateStack } from './stacks/modelgate-stack.ts';

/** CDK entry: `npx cdk synth [-c config=PATH]`. */
const app = new App();
const config = loadConfig(app.node.tryGetContext('config') ?? 'modelgate.config.json');
new ModelGateStack(app, config.stackName, {
  config,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: config.region ?? process.env.CDK_DEFAULT_REGION },
  description: 'ModelGate: AI models as a service (serving core)',
});
Validations.of(app).addPlugins(...synthChecks(app));
