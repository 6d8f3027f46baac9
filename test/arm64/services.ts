/**
 * What the functions talk to, on loopback: the SageMaker Runtime emulator in front of the demo
 * language model, a DynamoDB (dynalite) usage table, and one seeded s3rver per side (deployed
 * asset, handler source), so that each side's batch jobs and manifests start from the same state.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ENV } from '../../functions/core/env.ts';
import { demoLmContainer } from '../../local/containers/supervisor.ts';
import { S3RVER_CREDENTIALS } from '../../local/s3.ts';
import { startSageMakerEmulator } from '../../local/sagemaker/emulator.ts';
import { seedSampleModels } from '../../local/seed.ts';
import { DEMO_LM } from '../../local/topology.ts';
import { jsonLines, objectText } from '../fixtures/batch.ts';
import { startTestDynamo, type TestDynamo } from '../fixtures/dynamodb.ts';
import { startTestS3, type TestS3 } from '../fixtures/s3.ts';
import { type DeployedFunction, resolvedEnvironment } from './assets.ts';

export const BUCKET = 'modelgate';

export interface LanguageModels {
  readonly url: string;
  close(): Promise<void>;
}

/** The demo language model behind the SageMaker Runtime emulator, as local mode serves it. */
export async function startLanguageModels(): Promise<LanguageModels> {
  const demo = demoLmContainer(DEMO_LM);
  await demo.start();
  try {
    const emulator = await startSageMakerEmulator({
      port: 0,
      endpoints: new Map([[DEMO_LM, { url: demo.url, healthy: demo.healthy }]]),
    });
    return {
      url: emulator.url,
      async close() {
        await emulator.close();
        await demo.stop();
      },
    };
  } catch (error) {
    await demo.stop();
    throw error;
  }
}

/** A model bucket of one side, with the sample models published. */
export async function startSeededS3(): Promise<TestS3> {
  const store = await startTestS3(BUCKET);
  await seedSampleModels(store.s3, BUCKET);
  return store;
}

/** The usage table's name in the suite's DynamoDB. */
export const USAGE_TABLE = 'usage';

/** The usage table the api and chat functions write after each answer, on loopback. */
export function startUsageTable(): Promise<TestDynamo> {
  return startTestDynamo(USAGE_TABLE);
}

/**
 * A function's environment as the template sets it, pointed at loopback: the bucket's
 * s3rver, the SageMaker emulator serving the demo model (bound as local mode binds it), the
 * usage table in dynalite, a cache folder of its own, s3rver's credentials. No variable is left
 * naming an AWS resource the function would call. Tracing and metrics stay as deployed.
 */
export function loopbackEnvironment(
  fn: DeployedFunction,
  store: TestS3,
  urls: { readonly sagemaker: string; readonly dynamodb: string },
): Record<string, string> {
  const cacheDir = join(store.dir, `cache-${fn.name}`);
  mkdirSync(cacheDir, { recursive: true });
  const own = resolvedEnvironment(fn, BUCKET);
  return {
    ...own,
    ...(ENV.LARGE_MODELS in own && {
      [ENV.LARGE_MODELS]: JSON.stringify([{ name: DEMO_LM, endpoint: DEMO_LM, protocol: 'tgi' }]),
    }),
    [ENV.S3_ENDPOINT]: store.store.url,
    [ENV.SAGEMAKER_ENDPOINT]: urls.sagemaker,
    ...(ENV.USAGE_TABLE in own && {
      [ENV.USAGE_TABLE]: USAGE_TABLE,
      [ENV.DYNAMODB_ENDPOINT]: urls.dynamodb,
    }),
    ...(ENV.CACHE_DIR in own && { [ENV.CACHE_DIR]: cacheDir }),
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** An object of one side's bucket, parsed: JSON Lines as a list, JSON as it is; undefined when absent. */
export async function readObject(store: TestS3 | undefined, key: string): Promise<unknown> {
  const text = store && (await objectText(store.s3, BUCKET, key));
  if (text === undefined) return undefined;
  return key.endsWith('.jsonl') ? jsonLines(text) : JSON.parse(text);
}
