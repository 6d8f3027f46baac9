/**
 * Shadow requests: a copy of a served request goes to the alias's shadow version, its answer is
 * compared with production's and counted, and nothing of it ever reaches the client.
 */
import { sameAnswer } from '../core/compare.ts';
import { describeError } from '../core/errors.ts';
import type { Manifest } from '../core/registry/manifest.ts';
import type { Registry } from '../core/registry/store.ts';
import type { Telemetry } from '../core/telemetry.ts';

/** How long an answer waits for its shadow copy, by default. */
export const DEFAULT_SHADOW_WAIT_MS = 200;

/**
 * Sends a copy of a served request to the shadow version and compares its answer with
 * production's. Failures are counted and logged. The answer waits at most `shadowWaitMs` for it
 * (a Lambda environment is frozen once it answers); a slower shadow finishes when the
 * environment next runs.
 */
export async function mirrorToShadow(
  deps: { readonly registry: Registry; readonly telemetry: Telemetry; readonly shadowWaitMs?: number },
  labels: Record<string, unknown>,
  run: (manifest: Manifest) => Promise<unknown>,
  expected: unknown,
  shadow: { name: string; version: string },
): Promise<void> {
  const { registry, telemetry } = deps;
  const done = (async () => {
    try {
      const answer = await run(await registry.getManifest(shadow.name, shadow.version));
      const agree = sameAnswer(expected, answer);
      telemetry.recordShadow(shadow, agree ? 'agree' : 'disagree');
      if (!agree) telemetry.logger.info('shadow disagreed', { ...labels, shadowVersion: shadow.version });
    } catch (error) {
      telemetry.recordShadow(shadow, 'error');
      telemetry.logger.warn('shadow request failed', {
        ...labels,
        shadowVersion: shadow.version,
        error: describeError(error).message,
      });
    }
  })();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    done,
    new Promise<void>((wake) => {
      timer = setTimeout(wake, deps.shadowWaitMs ?? DEFAULT_SHADOW_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
}
