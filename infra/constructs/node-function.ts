/**
 * How ModelGate's Lambda functions are built: Node.js 24 on arm64, bundled by esbuild, onnxruntime-node
 * shipped for Lambda's platform, each with its own log group and role.
 */
import { Duration, RemovalPolicy, Size, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { GUARD_RULES, guardRule } from '../checks/guard.ts';
import { FUNCTION_BUNDLING, functionNodeOptions } from '../function-env.ts';

export interface NodeFunctionProps {
  /** Entry module of the function, e.g. `functions/api/index.ts`. */
  readonly entry: string;
  /**
   * @default - 2048 MiB
   */
  readonly memorySize?: number;
  /**
   * @default - 29 seconds, API Gateway's integration timeout
   */
  readonly timeout?: Duration;
  /**
   * /tmp size, where model files are cached.
   * @default - 2048 MiB
   */
  readonly ephemeralStorageSize?: Size;
  /**
   * @default - no reserved concurrency
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * @default - logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * @default - no extra variables
   */
  readonly environment?: Record<string, string>;
  /**
   * Ship onnxruntime-node (pruned to linux/arm64) with the function.
   * @default - true
   */
  readonly onnxRuntime?: boolean;
  /** V8 flags, after `--enable-source-maps`, in NODE_OPTIONS. */
  readonly nodeOptions?: readonly string[];
  /** @default - 'ModelGate inference function' */
  readonly description?: string;
  /**
   * Shell commands run after esbuild, to add files beside the bundle (the api
   * function's console and reference assets).
   * @default - none
   */
  readonly afterBundling?: (inputDir: string, outputDir: string) => string[];
}

/** Where the project's own onnxruntime-node lives; the function ships a copy of it. */
const ORT_PACKAGES = ['onnxruntime-node', 'onnxruntime-common'];
/** Native binaries the function needs: Lambda arm64 only (25 MB of the package's 288 MB). */
const ORT_PLATFORM = 'linux/arm64';

/**
 * A Node.js 24 arm64 Lambda function bundled with esbuild as ESM, carrying
 * onnxruntime-node pruned to Lambda's platform, with its own log group,
 * X-Ray tracing and a role that can write only to that log group.
 */
export class NodeFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly logGroup: logs.LogGroup;
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    super(scope, id);
    const memorySize = props.memorySize ?? 2048;
    if (memorySize < 128 || memorySize > 10240) {
      throw new Error(`memorySize must be 128-10240 MiB, got ${memorySize}`);
    }
    const timeout = props.timeout ?? Duration.seconds(29);
    if (timeout.toSeconds() > 900)
      throw new Error(`timeout must be at most 15 minutes, got ${timeout.toHumanString()}`);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description ?? 'ModelGate inference function',
    });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        // The Arn attribute of a log group already ends in ':*', covering its streams.
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description ?? 'ModelGate inference function',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize,
      timeout,
      ephemeralStorageSize: props.ephemeralStorageSize ?? Size.mebibytes(2048),
      ...(props.reservedConcurrentExecutions !== undefined && {
        reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      }),
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        NODE_OPTIONS: functionNodeOptions(props.nodeOptions),
        ...props.environment,
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: FUNCTION_BUNDLING.target,
        minify: FUNCTION_BUNDLING.minify,
        sourceMap: FUNCTION_BUNDLING.sourcemap,
        sourcesContent: FUNCTION_BUNDLING.sourcesContent,
        mainFields: [...FUNCTION_BUNDLING.mainFields],
        esbuildArgs: {
          '--alias': Object.entries(FUNCTION_BUNDLING.alias).map(([from, to]) => `${from}=${to}`),
        },
        // CommonJS dependencies (X-Ray SDK) call require() inside the ESM bundle.
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        bundleAwsSDK: true,
        ...(props.onnxRuntime !== false && { externalModules: ['onnxruntime-node'] }),
        ...((props.onnxRuntime !== false || props.afterBundling) && {
          commandHooks: {
            beforeBundling: () => [],
            beforeInstall: () => [],
            afterBundling: (inputDir: string, outputDir: string) => [
              ...(props.onnxRuntime !== false ? copyOnnxRuntime(inputDir, outputDir) : []),
              ...(props.afterBundling?.(inputDir, outputDir) ?? []),
            ],
          },
        }),
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'HIPAA.Security-LambdaDLQ',
      reason:
        'A dead-letter queue catches failed asynchronous invocations; API Gateway and Step Functions invoke these functions synchronously and see every error, and the batch function reads an SQS queue that has its own dead-letter queue.',
    });
    const outsideVpc =
      'The functions reach only S3, SageMaker Runtime and CloudWatch, through IAM-signed TLS requests, and hold no network listener; a VPC would add NAT or interface endpoints without narrowing what a role may do.';
    Validations.of(this.function).acknowledge(
      { id: 'HIPAA.Security-LambdaInsideVPC', reason: outsideVpc },
      { id: guardRule(GUARD_RULES.lambdaVpc), reason: outsideVpc },
    );
    if (props.reservedConcurrentExecutions === undefined) {
      Validations.of(this.function).acknowledge({
        id: 'HIPAA.Security-LambdaConcurrency',
        reason:
          'Usage plans throttle and meter every API key before a function runs; reserved concurrency takes from the account pool and is set per deployment (api.reservedConcurrency).',
      });
    }
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments and PutTelemetryRecords do not support resource-level permissions.',
    });
  }
}

/** Shell commands that copy the installed onnxruntime-node into the bundle, Lambda's binaries only. */
function copyOnnxRuntime(inputDir: string, outputDir: string): string[] {
  const commands: string[] = [];
  for (const pkg of ORT_PACKAGES) {
    const from = `${inputDir}/node_modules/${pkg}`;
    const to = `${outputDir}/node_modules/${pkg}`;
    commands.push(`mkdir -p ${to}`, `cp -R ${from}/package.json ${from}/dist ${from}/lib ${to}/`);
    if (pkg === 'onnxruntime-node') {
      commands.push(
        `mkdir -p ${to}/bin/napi-v6/${ORT_PLATFORM}`,
        `cp -R ${from}/bin/napi-v6/${ORT_PLATFORM}/. ${to}/bin/napi-v6/${ORT_PLATFORM}/`,
      );
    }
  }
  return commands;
}
