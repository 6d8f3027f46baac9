/**
 * One browser test file's setting: the whole local topology (GET /v1/metrics on against a loopback
 * CloudWatch, the test models published), Debian's Chromium and one watched tab its tests share.
 */
import type { Browser, Page } from 'playwright-core';
import { ENV } from '../../functions/core/env.ts';
import { type FakeCloudWatch, startCloudWatch } from '../fixtures/cloudwatch.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';
import { launch, type Watched, watchedPage } from './browser.ts';
import { publishCanary, publishHostile } from './models.ts';

export interface Suite {
  readonly api: TestTopology;
  readonly browser: Browser;
  /** The tab the file's tests share, in order; its errors and foreign requests are checked last. */
  readonly tab: Watched;
  readonly cloudwatch: FakeCloudWatch;
  close(): Promise<void>;
}

export async function startSuite(options: { languageModels: boolean }): Promise<Suite> {
  // GET /v1/metrics on, as the stack turns it on, against a loopback CloudWatch.
  const cloudwatch = await startCloudWatch();
  process.env[ENV.CLOUDWATCH_METRICS] = 'true';
  process.env[ENV.CLOUDWATCH_ENDPOINT] = cloudwatch.url;
  const api = await startTestTopology({ languageModels: options.languageModels });
  await publishHostile(api);
  await publishCanary(api);
  const browser = await launch();
  const tab = await watchedPage(browser, api.apiUrl);
  return {
    api,
    browser,
    tab,
    cloudwatch,
    async close() {
      await browser.close();
      await api.close();
      await cloudwatch.close();
      delete process.env[ENV.CLOUDWATCH_METRICS];
      delete process.env[ENV.CLOUDWATCH_ENDPOINT];
    },
  };
}

/** Opens the console on `page` and signs in with the dev key, until the console's navigation shows. */
export async function signIn(page: Page, api: TestTopology): Promise<void> {
  await page.goto(`${api.apiUrl}/console`);
  await page.getByLabel('API key').fill(api.apiKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Console' }).waitFor();
}
