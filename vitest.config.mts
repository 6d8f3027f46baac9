/**
 * The Vitest test projects (unit, component, infra, local, arm64, load), each with its folder and timeouts.
 */
import { defineConfig } from 'vitest/config';
import { scratchTmpdir } from './test/fixtures/scratch.ts';

// Every temporary file of the run, in this process and the ones it starts, under one folder
// removed at exit (a full run makes about 50 cdk.out folders and several local S3 stores).
if (!process.env.MODELGATE_TEST_TMPDIR) {
  process.env.MODELGATE_TEST_TMPDIR = scratchTmpdir('modelgate-test');
}

/** The SDK's Node 22 notice and metric lines are not test results. */
const env = {
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], env } },
      // One real server each (s3rver, a model file on disk): slower than unit tests, no whole topology.
      { test: { name: 'component', include: ['test/component/**/*.test.ts'], testTimeout: 60_000, env } },
      { test: { name: 'infra', include: ['test/infra/**/*.test.ts'], testTimeout: 120_000, env } },
      {
        test: {
          env,
          name: 'local',
          include: ['test/local/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      // The console and the reference in Debian's Chromium (playwright-core) against the local topology.
      {
        test: {
          env,
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          // One file at a time: each starts a topology and Chromium, and the metrics pages are timed.
          fileParallelism: false,
          testTimeout: 60_000,
          // Pages load and stream: wait on what they show, up to 15 s.
          expect: { poll: { timeout: 15_000 } },
          hookTimeout: 120_000,
        },
      },
      // Deployed assets on linux/arm64 under qemu (test/arm64/setup.sh first; docs/ARM64.md).
      {
        test: {
          env,
          name: 'arm64',
          include: ['test/arm64/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      // Run on its own, after the others (npm test): it saturates the machine for a minute.
      { test: { env, name: 'load', include: ['test/load/**/*.test.ts'], testTimeout: 180_000 } },
    ],
  },
});
