/**
 * Where a CLI command acts: local mode's S3 and API, or a deployed stack's model bucket and API (from its
 * CloudFormation outputs or named directly), and which API key it sends.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { endpointConfig } from '../functions/core/s3.ts';
import { localS3Client } from '../local/s3.ts';

/** Where a command acts: the model bucket, and the API for predict and chat. */
export interface Target {
  readonly s3: S3Client;
  readonly bucket: string;
  /** For messages: the bucket and where it lives. */
  readonly where: string;
  /** Base URL of the API (no trailing slash), when known. */
  readonly apiUrl: string | undefined;
  readonly apiKey: string | undefined;
  readonly local: boolean;
  /** The outputs of the deployed stack, with `--stack`. */
  readonly stackOutputs?: Readonly<Record<string, string>>;
}

export interface TargetOptions {
  readonly stack?: string | undefined;
  readonly bucket?: string | undefined;
  readonly endpoint?: string | undefined;
  readonly 'api-url'?: string | undefined;
  readonly 'api-key'?: string | undefined;
}

/** Stack outputs the CLI reads (see infra/stacks/modelgate-stack.ts). */
export const STACK_OUTPUTS = {
  apiUrl: 'ApiUrl',
  bucket: 'ModelBucketName',
  usageTable: 'UsageTableName',
  apiKeyIds: 'ApiKeyIds',
} as const;

/**
 * Resolves the target of a command:
 * - `--stack NAME`: the stack's outputs (API URL, model bucket) read from
 *   CloudFormation, AWS credentials from the standard chain;
 * - `--bucket NAME` / `--api-url URL`: a deployed bucket and API named directly;
 * - otherwise local mode, with the same `MODELGATE_*` variables as `npm start`
 *   (ports, home, bucket, API key; the generated dev key is read from the home).
 * The API key comes from `--api-key`, else `MODELGATE_API_KEY`, else (local) the dev key.
 */
export async function resolveTarget(options: TargetOptions, env: NodeJS.ProcessEnv): Promise<Target> {
  const apiKeyGiven = options['api-key'] ?? (env.MODELGATE_API_KEY || undefined);
  if (options.stack) {
    const outputs = await stackOutputs(options.stack, env);
    const bucket = options.bucket ?? outputs[STACK_OUTPUTS.bucket];
    if (!bucket) throw new Error(`stack ${options.stack} has no ${STACK_OUTPUTS.bucket} output`);
    return {
      s3: new S3Client({}),
      bucket,
      where: `s3://${bucket}`,
      apiUrl: trimSlash(options['api-url'] ?? outputs[STACK_OUTPUTS.apiUrl]),
      apiKey: apiKeyGiven,
      local: false,
      stackOutputs: outputs,
    };
  }
  if (options.bucket && !options.endpoint) {
    return {
      s3: new S3Client({}),
      bucket: options.bucket,
      where: `s3://${options.bucket}`,
      apiUrl: trimSlash(options['api-url']),
      apiKey: apiKeyGiven,
      local: false,
    };
  }
  const endpoint = options.endpoint ?? `http://127.0.0.1:${env.MODELGATE_S3_PORT || 4568}`;
  const bucket = options.bucket ?? (env.MODELGATE_BUCKET || 'modelgate');
  const s3 = options.endpoint
    ? new S3Client({ ...endpointConfig(endpoint), maxAttempts: 2 })
    : localS3Client(endpoint, { maxAttempts: 2 });
  return {
    s3,
    bucket,
    where: `${endpoint}/${bucket}`,
    apiUrl: trimSlash(options['api-url'] ?? `http://127.0.0.1:${env.MODELGATE_PORT || 3000}`),
    apiKey: apiKeyGiven ?? localDevKey(env),
    local: !options.endpoint,
  };
}

/** The outputs of a deployed stack, by key. */
async function stackOutputs(stack: string, env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const endpoint = env.AWS_ENDPOINT_URL_CLOUDFORMATION || undefined;
  const client = new CloudFormationClient({ maxAttempts: 2, ...(endpoint && { endpoint }) });
  try {
    const { Stacks } = await client.send(new DescribeStacksCommand({ StackName: stack }));
    const found = Stacks?.[0];
    if (!found) throw new Error(`stack ${stack} not found`);
    return Object.fromEntries(
      (found.Outputs ?? []).flatMap((o) =>
        o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [],
      ),
    );
  } catch (error) {
    const message = (error as Error).message;
    throw new Error(`cannot read the outputs of stack ${stack}: ${message}`);
  } finally {
    client.destroy();
  }
}

/** The dev key `npm start` generated in its home, if there is one. */
function localDevKey(env: NodeJS.ProcessEnv): string | undefined {
  const file = join(resolve(env.MODELGATE_HOME || '.modelgate'), 'api-key');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

function trimSlash(url: string | undefined): string | undefined {
  return url?.replace(/\/+$/, '');
}
