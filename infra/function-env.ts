import { ENV } from '../functions/core/env.ts';
import type { ModelGateConfig } from './config.ts';

/**
 * Environment of the api function, from the platform configuration. The CDK
 * stack and local mode both build it here, so the function sees one contract.
 * The bucket name comes with the bucket's grant (`ModelStore.bindModels`).
 */
export function apiFunctionEnvironment(config: ModelGateConfig): Record<string, string> {
  return {
    [ENV.REGISTRY_TTL_SECONDS]: String(config.api.registryTtlSeconds),
    [ENV.SESSION_CACHE_MB]: String(config.api.sessionCacheMiB),
    [ENV.MAX_ELEMENTS]: String(config.api.maxElements),
    [ENV.CACHE_DIR]: '/tmp/modelgate',
    POWERTOOLS_SERVICE_NAME: 'modelgate-api',
    POWERTOOLS_METRICS_NAMESPACE: 'ModelGate',
  };
}
