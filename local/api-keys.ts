/**
 * The API keys of local mode: one per configured key, generated once and kept
 * in the data folder, each in its usage plan; a key's name is its key id.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { limitsOf, type ModelGateConfig } from '../infra/config.ts';
import type { Plan } from './gateway/usage-plans.ts';

/**
 * The gateway's keys: one per configured API key, its name as its id, in its
 * plan. The first is the dev key; the others are generated once and kept in
 * `home/api-keys/<name>`.
 */
export function gatewayKeys(
  config: Pick<ModelGateConfig, 'apiKeys' | 'usagePlans'>,
  home: string,
  first: { value?: string | undefined; plan?: Plan | undefined } = {},
): Array<{ id: string; value: string; plan: Plan }> {
  const { apiKeys, usagePlans } = config;
  return apiKeys.map((key, i) => ({
    id: key.name,
    value:
      (i === 0 ? first.value : undefined) ??
      devApiKey(home, i === 0 ? 'api-key' : join('api-keys', key.name)),
    plan:
      (i === 0 ? first.plan : undefined) ??
      usagePlans.find((p) => p.name === key.plan) ??
      (usagePlans[0] as Plan),
  }));
}

/** The dev API key kept in `home` (or another key, at `file` under it), created on first use. */
function devApiKey(home: string, name = 'api-key'): string {
  const file = join(home, name);
  mkdirSync(dirname(file), { recursive: true });
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = `mg-${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

/** `MODELGATE_KEY_LIMITS` of local mode: each key's budgets and limits under its name, its key id. */
export function keyLimitsEnv(config: ModelGateConfig): string {
  const entries = config.apiKeys.map((k) => ({ keyId: k.name, ...limitsOf(config, k.name) }));
  return JSON.stringify(entries.filter((e) => Object.keys(e).length > 1));
}
