/**
 * The functions' environment contract (readEnv): defaults, a frozen result, large-model and usage bindings, and a
 * fail-fast message naming each variable that is missing or malformed.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULTS, ENV, readEnv } from '../../../functions/core/env.ts';

describe('readEnv', () => {
  it('reads the contract with defaults and freezes it', () => {
    const env = readEnv({ [ENV.MODEL_BUCKET]: 'b' });
    expect(env).toEqual({
      modelBucket: 'b',
      s3Endpoint: undefined,
      s3TimeoutMs: DEFAULTS.s3TimeoutMs,
      cacheDir: DEFAULTS.cacheDir,
      registryTtlSeconds: DEFAULTS.registryTtlSeconds,
      sessionCacheBytes: DEFAULTS.sessionCacheMb * 1024 * 1024,
      maxElements: DEFAULTS.maxElements,
      tracing: false,
      largeModels: [],
      sagemakerEndpoint: undefined,
      largeBatch: undefined,
      compileTrees: true,
      assetsDir: 'assets',
    });
    expect(Object.isFrozen(env)).toBe(true);
  });

  it('finds the console assets beside the bundle in Lambda, or where MODELGATE_ASSETS_DIR says', () => {
    expect(readEnv({ [ENV.MODEL_BUCKET]: 'b', LAMBDA_TASK_ROOT: '/var/task' }).assetsDir).toBe(
      '/var/task/assets',
    );
    expect(readEnv({ [ENV.MODEL_BUCKET]: 'b', [ENV.ASSETS_DIR]: '/srv/a' }).assetsDir).toBe('/srv/a');
  });

  it('lets a function that reads no models (chat) start without the bucket, and only that one', () => {
    const bound = [{ name: 'lm', endpoint: 'lm-endpoint', protocol: 'tgi' }];
    const env = readEnv({ [ENV.LARGE_MODELS]: JSON.stringify(bound) }, { modelBucket: false });
    expect(env.largeModels).toEqual(bound);
    expect(env).not.toHaveProperty('modelBucket');
    expect(() => readEnv({ [ENV.LARGE_MODELS]: JSON.stringify(bound) })).toThrow(/MODELGATE_MODEL_BUCKET/);
  });

  it('traces in Lambda unless Powertools tracing is turned off', () => {
    const lambda = { [ENV.MODEL_BUCKET]: 'b', AWS_LAMBDA_FUNCTION_NAME: 'api' };
    expect(readEnv(lambda).tracing).toBe(true);
    expect(readEnv({ ...lambda, POWERTOOLS_TRACE_ENABLED: 'false' }).tracing).toBe(false);
  });

  it('reads large model bindings and refuses malformed ones', () => {
    const bound = readEnv({
      [ENV.MODEL_BUCKET]: 'b',
      [ENV.LARGE_MODELS]: '[{"name": "llama", "endpoint": "llama-ep", "protocol": "lmi"}]',
    });
    expect(bound.largeModels).toEqual([{ name: 'llama', endpoint: 'llama-ep', protocol: 'lmi' }]);
    expect(() => readEnv({ [ENV.MODEL_BUCKET]: 'b', [ENV.LARGE_MODELS]: '[{"name": "x"}]' })).toThrow(
      /MODELGATE_LARGE_MODELS has a bad entry at 0: expected JSON/,
    );
    expect(() => readEnv({ [ENV.MODEL_BUCKET]: 'b', [ENV.LARGE_MODELS]: '{' })).toThrow(/is not JSON/);
  });

  it('reads the inference component and cold-start wait of a model that scales to zero', () => {
    const zero = {
      name: 'z',
      endpoint: 'z-ep',
      protocol: 'tgi',
      component: 'z-ep-ic',
      coldStartWaitSeconds: 120,
    };
    const bound = readEnv({ [ENV.MODEL_BUCKET]: 'b', [ENV.LARGE_MODELS]: JSON.stringify([zero]) });
    expect(bound.largeModels).toEqual([zero]);
    for (const bad of [{ component: 7 }, { coldStartWaitSeconds: -1 }, { coldStartWaitSeconds: '5' }]) {
      expect(() =>
        readEnv({ [ENV.MODEL_BUCKET]: 'b', [ENV.LARGE_MODELS]: JSON.stringify([{ ...zero, ...bad }]) }),
      ).toThrow(/MODELGATE_LARGE_MODELS has a bad component or coldStartWaitSeconds at 0/);
    }
  });

  it('reads the usage table and key limits only when a table is given, and refuses bad limits', () => {
    expect(readEnv({ [ENV.MODEL_BUCKET]: 'b' }).usage).toBeUndefined();
    const usage = readEnv({
      [ENV.MODEL_BUCKET]: 'b',
      [ENV.USAGE_TABLE]: 'usage',
      [ENV.KEY_LIMITS]: '[{"keyId": "abc123", "tokensPerMinute": 1000, "requestsPerMonth": 5}]',
    }).usage;
    expect(usage).toMatchObject({ table: 'usage', retentionDays: 400, endpoint: undefined });
    expect(usage?.limits.get('abc123')).toEqual({ tokensPerMinute: 1000, requestsPerMonth: 5 });
    const bad = { [ENV.MODEL_BUCKET]: 'b', [ENV.USAGE_TABLE]: 'usage' };
    expect(() => readEnv({ ...bad, [ENV.KEY_LIMITS]: '[{"keyId": "k", "tokensPerMinute": 0}]' })).toThrow(
      /MODELGATE_KEY_LIMITS has a bad tokensPerMinute at 0: expected JSON/,
    );
    expect(() => readEnv({ ...bad, [ENV.KEY_LIMITS]: '[{}]' })).toThrow(/has no keyId at 0/);
  });

  it('fails fast naming the variable that is missing or malformed', () => {
    expect(() => readEnv({})).toThrow(/MODELGATE_MODEL_BUCKET is not set/);
    expect(() => readEnv({ [ENV.MODEL_BUCKET]: 'b', [ENV.MAX_ELEMENTS]: 'lots' })).toThrow(
      /MODELGATE_MAX_ELEMENTS must be a positive number, got 'lots'/,
    );
    expect(readEnv({ [ENV.MODEL_BUCKET]: 'b', [ENV.REGISTRY_TTL_SECONDS]: '0' }).registryTtlSeconds).toBe(0);
    expect(readEnv({ [ENV.MODEL_BUCKET]: 'b', [ENV.COMPILE_TREES]: 'false' }).compileTrees).toBe(false);
    expect(() => readEnv({ [ENV.MODEL_BUCKET]: 'b', [ENV.COMPILE_TREES]: 'no' })).toThrow(
      "MODELGATE_COMPILE_TREES must be true or false, got 'no'",
    );
  });
});
