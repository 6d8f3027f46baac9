import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { API_ROUTES, BODY_SCHEMAS } from '../../functions/api/routes.ts';
import { ENV } from '../../functions/core/env.ts';
import type { Manifest } from '../../functions/core/manifest.ts';
import type { ModelGateConfig } from '../config.ts';
import { apiFunctionEnvironment } from '../function-env.ts';
import { type GatewayRoute, type LocalGateway, type ProxyHandler, startGateway } from './gateway.ts';
import { type LocalS3, localS3Client, S3RVER_CREDENTIALS, startLocalS3 } from './s3.ts';
import { seedSampleModels } from './seed.ts';
import type { Plan } from './usage.ts';

export interface LocalOptions {
  readonly config: ModelGateConfig;
  /** Data folder: s3rver's objects, the dev API key, the model file cache. */
  readonly home: string;
  /** API port; 0 for an ephemeral one. */
  readonly port: number;
  /** S3 port; 0 for an ephemeral one. */
  readonly s3Port: number;
  readonly bucket: string;
  /** The dev API key; generated once and kept in `home` when absent. */
  readonly apiKey?: string | undefined;
  /** Usage plan of the dev key; the config's plan for its first key by default. */
  readonly plan?: Plan;
  /** Gateway integration timeout; API Gateway's 29 s by default. */
  readonly timeoutMs?: number;
  /** Publish the sample models when absent (default true). */
  readonly seed?: boolean;
}

export interface LocalTopology {
  readonly apiUrl: string;
  readonly s3Url: string;
  readonly bucket: string;
  readonly apiKey: string;
  /** An S3 client pointed at the local store. */
  readonly s3: S3Client;
  readonly seeded: Manifest[];
  readonly gateway: LocalGateway;
  readonly store: LocalS3;
  close(): Promise<void>;
}

/** Options from `MODELGATE_*` variables, with the documented defaults. */
export function localOptionsFromEnv(
  config: ModelGateConfig,
  env: NodeJS.ProcessEnv = process.env,
): LocalOptions {
  return {
    config,
    home: resolve(env.MODELGATE_HOME || '.modelgate'),
    port: port(env, 'MODELGATE_PORT', 3000),
    s3Port: port(env, 'MODELGATE_S3_PORT', 4568),
    bucket: env.MODELGATE_BUCKET || 'modelgate',
    apiKey: env.MODELGATE_API_KEY || undefined,
  };
}

/**
 * Brings up ModelGate on loopback: s3rver as the model bucket, the sample
 * models seeded, and the API Gateway emulator in front of the very same api
 * handler module the Lambda runs, configured through the same environment.
 *
 * The handler reads its environment once per process, so one process runs
 * one topology.
 */
export async function startLocal(options: LocalOptions): Promise<LocalTopology> {
  mkdirSync(options.home, { recursive: true });
  const store = await startLocalS3({
    port: options.s3Port,
    directory: join(options.home, 's3'),
    bucket: options.bucket,
  });
  try {
    const s3 = localS3Client(store.url);
    const seeded = options.seed === false ? [] : await seedSampleModels(s3, options.bucket);

    Object.assign(process.env, {
      ...apiFunctionEnvironment(options.config),
      [ENV.MODEL_BUCKET]: options.bucket,
      [ENV.S3_ENDPOINT]: store.url,
      [ENV.CACHE_DIR]: join(options.home, 'cache'),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    });
    // Quiet by default on a laptop; POWERTOOLS_* set by the user win.
    process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
    process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
    process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
    const { handler } = (await import('../../functions/api/index.ts')) as { handler: ProxyHandler };

    const apiKey = options.apiKey ?? devApiKey(options.home);
    const keyConfig = options.config.apiKeys[0];
    const plan =
      options.plan ??
      options.config.usagePlans.find((p) => p.name === keyConfig?.plan) ??
      (options.config.usagePlans[0] as Plan);
    const routes: GatewayRoute[] = API_ROUTES.map((route) => ({
      ...route,
      handler,
      ...('bodySchema' in route && { schema: BODY_SCHEMAS[route.bodySchema] }),
    }));
    const gateway = await startGateway({
      routes,
      apiKeys: [{ id: keyConfig?.name ?? 'default', value: apiKey, plan }],
      port: options.port,
      stage: options.config.stage,
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    });
    return {
      apiUrl: gateway.url,
      s3Url: store.url,
      bucket: options.bucket,
      apiKey,
      s3,
      seeded,
      gateway,
      store,
      async close() {
        await gateway.close();
        s3.destroy();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** The dev API key kept in `home`, created on first use. */
export function devApiKey(home: string): string {
  const file = join(home, 'api-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = `mg-${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new Error(`${name} must be a port number (0-65535), got '${raw}'`);
  }
  return value;
}
