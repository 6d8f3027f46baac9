/**
 * What a GPU endpoint's container needs from the template: its image (DLC accounts by region), the
 * execution role's basics (image pull, logs, metrics) and the preset's environment.
 */
import { Aws, CfnMapping, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { type ContainerPreset, DLC_ACCOUNTS, DLC_DEFAULT_ACCOUNT, DLC_REGIONS } from '../gpu-containers.ts';
import type { GpuEndpointProps } from './gpu-endpoint.ts';

/** The container's image URI: its own, or the preset's in the stack's region (a mapping of DLC accounts). */
export function containerImage(
  scope: Construct,
  container: ContainerPreset,
): { uri: string; account: string | undefined } {
  if (container.image) return { uri: container.image, account: undefined };
  const stack = Stack.of(scope);
  const region = stack.region;
  if (!Token.isUnresolved(region) && !DLC_REGIONS.includes(region)) {
    throw new Error(
      `the ${container.name} container has no image in region ${region}; give an image URI instead`,
    );
  }
  const accounts = new CfnMapping(scope, 'DlcAccounts', {
    mapping: Object.fromEntries(
      DLC_REGIONS.map((r) => [r, { account: DLC_ACCOUNTS[r] ?? DLC_DEFAULT_ACCOUNT }]),
    ),
    lazy: true,
  });
  const account = accounts.findInMap(stack.region, 'account');
  return {
    uri: `${account}.dkr.ecr.${stack.region}.${stack.urlSuffix}/${container.repository}:${container.tag}`,
    account,
  };
}

/** Image pull, logs and metrics: what every SageMaker container needs. */
export function grantContainerBasics(
  role: iam.Role,
  endpointName: string,
  container: ContainerPreset,
  account: string | undefined,
): void {
  const stack = Stack.of(role);
  const repository = container.image
    ? `arn:${stack.partition}:ecr:${stack.region}:${container.image.split('.')[0]}:repository/${container.image.split('/').slice(1).join('/').split(/[:@]/)[0]}`
    : `arn:${stack.partition}:ecr:${stack.region}:${account}:repository/${container.repository}`;
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
      resources: [repository],
    }),
  );
  role.addToPolicy(new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
  // Pseudo parameters here, whatever the stack's environment: the acknowledgement below names this string.
  const logGroup = `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:/aws/sagemaker/Endpoints/${endpointName}`;
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: [
        'logs:CreateLogGroup',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'logs:DescribeLogStreams',
      ],
      resources: [logGroup, `${logGroup}:*`],
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/Endpoints*' } },
    }),
  );
  Validations.of(role).acknowledge(
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken and cloudwatch:PutMetricData have no resource-level permissions; PutMetricData is limited to the SageMaker endpoint namespace by condition.',
    },
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/Endpoints/${endpointName}:*]`,
      reason:
        'SageMaker creates one log stream per instance with generated names inside this endpoint’s own log group.',
    },
  );
}

/** The preset's container environment: model id, GPU count, token limits. */
export function presetEnvironment(props: GpuEndpointProps): Record<string, string> {
  const gpus = String(props.instanceType.gpus);
  const hubId = props.model.hfModelId;
  switch (props.container.name) {
    case 'lmi':
      // LMI loads /opt/ml/model by itself when no model id is set.
      return {
        ...(hubId && { HF_MODEL_ID: hubId }),
        OPTION_ROLLING_BATCH: 'vllm',
        TENSOR_PARALLEL_DEGREE: gpus,
        ...(props.maxTotalTokens && { OPTION_MAX_MODEL_LEN: String(props.maxTotalTokens) }),
      };
    case 'tgi':
      return {
        HF_MODEL_ID: props.model.containerModelId,
        SM_NUM_GPUS: gpus,
        MAX_INPUT_TOKENS: String(props.maxInputTokens ?? 4096),
        MAX_TOTAL_TOKENS: String(props.maxTotalTokens ?? 8192),
      };
    default:
      return hubId ? { HF_MODEL_ID: hubId } : {};
  }
}
