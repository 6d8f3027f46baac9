/**
 * The console's live pages in Debian's Chromium against the whole local topology: the chat
 * playground (streaming, stop, chat text as text), batches, metrics (the gateway's counters, and
 * CloudWatch as deployed) and usage; axe-core clean, no console error, nothing from another origin.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_KEY_HEADER } from '../../functions/api/routes.ts';
import { hashToUnit, pickRoute } from '../../functions/core/registry/canary.ts';
import type { Alias } from '../../functions/core/registry/manifest.ts';
import { settledManifest } from '../fixtures/batch.ts';
import type { FakeCloudWatch } from '../fixtures/cloudwatch.ts';
import type { TestTopology } from '../fixtures/local.ts';
import { accessibilityProblems, screenshot, type Watched, watchedPage } from './browser.ts';
import { CANARY, HOSTILE } from './models.ts';
import { type Suite, signIn, startSuite } from './suite.ts';

let api: TestTopology;
let browser: Browser;
let tab: Watched;
let cloudwatch: FakeCloudWatch;
let suite: Suite;

beforeAll(async () => {
  suite = await startSuite({ languageModels: true });
  ({ api, browser, tab, cloudwatch } = suite);
  await signIn(tab.page, api);
});
afterAll(() => suite?.close());

describe('the live pages in a browser', () => {
  it('streams a chat answer token by token, and stops it', async () => {
    const { page } = tab;
    await page.goto(`${api.apiUrl}/console#/chat`);
    await expect.poll(() => page.getByLabel('Model').inputValue()).toBe('demo-lm');
    await page.getByLabel('Message').fill('Tell me a long story');
    await page.getByLabel('Max tokens').fill('1500');
    // Greedy decoding: the demo model then never ends on its own within 1,500 tokens, so the answer
    // is still streaming when Stop is pressed (sampled, it may end first).
    await page.getByLabel('Temperature').fill('0');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => page.locator('.stats').textContent()).toMatch(/^\d+ tokens, [\d.]+ tokens\/s$/);
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => page.locator('.stats').textContent()).toMatch(/^Stopped after \d+ tokens\.$/);
    expect((await page.getByLabel('Answer').textContent())?.length).toBeGreaterThan(0);
    // A short answer runs to its end and reports the model's usage.
    await page.getByLabel('Max tokens').fill('8');
    await page.getByRole('button', { name: 'Send' }).click();
    await expect
      .poll(() => page.locator('.stats').textContent())
      .toMatch(/usage: \d+ prompt \+ \d+ completion = \d+ tokens/);
    // The parameters reach the model: no more than the 8 tokens asked for, each one streamed.
    const stats = (await page.locator('.stats').textContent()) ?? '';
    const [tokens, completion] = (/^(\d+) tokens.*\+ (\d+) completion/.exec(stats) ?? [])
      .slice(1)
      .map(Number) as [number, number];
    expect(completion).toBeLessThanOrEqual(8);
    expect(tokens).toBeGreaterThan(0);
    expect(tokens).toBeLessThanOrEqual(completion);
    await screenshot(page, 'chat');
    expect(await accessibilityProblems(page)).toEqual([]);
  });

  it('shows chat text as text, never as markup', async () => {
    const { page } = tab;
    const pieces = [HOSTILE, '<script>alert(2)</script>', '<b>bold</b>'];
    // demo-lm cannot be asked for markup: this one answer is streamed by the page's own network
    // layer instead, in the chat route's framing (one chunk per piece, then [DONE]).
    await page.route('**/v1/chat/completions', (route) =>
      route.fulfill({
        status: 200,
        headers: { 'content-type': 'text/event-stream' },
        body: `${pieces
          .map(
            (content) =>
              `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] })}\n\n`,
          )
          .join('')}data: [DONE]\n\n`,
      }),
    );
    try {
      await page.goto(`${api.apiUrl}/console#/chat`);
      await expect.poll(() => page.getByLabel('Model').inputValue()).toBe('demo-lm');
      await page.getByLabel('Message').fill('Answer in HTML');
      await page.getByRole('button', { name: 'Send' }).click();
      await expect.poll(() => page.locator('.stats').textContent()).toMatch(/^3 tokens, /);
      expect(await page.getByLabel('Answer').textContent()).toBe(pieces.join(''));
      expect(await page.locator('main img, main script, main b').count()).toBe(0);
    } finally {
      await page.unroute('**/v1/chat/completions');
    }
  });

  it('lists a finished batch job of this key from its manifest, with its failed rows', async () => {
    const { page } = tab;
    // A job of this key: its file under the key's own prefix, submitted through the API.
    await api.s3.send(
      new PutObjectCommand({
        Bucket: api.bucket,
        Key: 'batch/keys/default/console.jsonl',
        // A row's error quotes the start of a line that is not JSON: markup there stays text.
        Body: `[5.1,3.5,1.4,0.2]\n[1]\n${HOSTILE}\n`,
      }),
    );
    const submitted = await api.call('/v1/batches', { body: { model: 'iris', input: 'console.jsonl' } });
    expect(submitted.status).toBe(202);
    await settledManifest(api, `iris/jobs/${submitted.json.id}/console.jsonl`);
    await page.goto(`${api.apiUrl}/console#/batches`);
    const row = page.locator('tbody tr', { hasText: submitted.json.output });
    await expect.poll(() => row.count()).toBe(1);
    // Model, status, rows, failed rows, duration and start, from the job's manifest.
    const manifest = (await api.call(`/v1/batches/${submitted.json.id}`)).json.manifest;
    expect((await row.locator('td').allTextContents()).slice(0, 6)).toEqual([
      'iris',
      'completed_with_errors',
      '3',
      '2',
      `${(manifest.durationMs / 1000).toFixed(2)} s`,
      manifest.startedAt,
    ]);
    // The output as its S3 URI in text (the bucket is private), and the failed row on demand.
    expect(await row.locator('.uri code').textContent()).toBe(`s3://${api.bucket}/${submitted.json.output}`);
    await row.getByText('Failed rows').click();
    const failed = row.locator('.failed-rows li');
    await expect
      .poll(() => failed.allTextContents())
      .toEqual([
        expect.stringMatching(/^line 2: 1 values; the model expects 4/),
        expect.stringMatching(/^line 3: not JSON \(.*"<img src=x"/),
      ]);
    expect(await page.locator('main img, main script').count()).toBe(0);
    await screenshot(page, 'batches');
    expect(await accessibilityProblems(page)).toEqual([]);
  });

  it('draws live metrics by model and version after traffic: a canary beside production, 4xx counted', async () => {
    const { page } = tab;
    await page.goto(`${api.apiUrl}/console#/metrics`);
    await expect.poll(() => page.locator('main').textContent(), { timeout: 10_000 }).toMatch(/Updated/);
    for (let i = 0; i < 10; i++)
      await api.call('/v1/models/iris/predict', { body: { instances: [[5.1, 3.5, 1.4, 0.2]] } });
    // A route key that production's 90/10 split sends to each version.
    const routeKeys = ['1', '2'].map((version) =>
      Array.from({ length: 1000 }, (_, i) => `user-${i}`).find(
        (key) => pickRoute(CANARY.production as Alias, hashToUnit(key)) === version,
      ),
    );
    const table = () =>
      page
        .locator('tbody tr')
        .evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => c.textContent ?? '')));
    // Traffic while the page reads its counters: both canary versions, and a refused iris row.
    await expect
      .poll(
        async () => {
          await Promise.all([
            api.call('/v1/models/iris/predict', { body: { instances: [[1]] } }),
            ...routeKeys.map((key) =>
              api.call('/v1/models/canary/predict', {
                body: { instances: [[5.1, 3.5, 1.4, 0.2]] },
                headers: { [ROUTE_KEY_HEADER]: key as string },
              }),
            ),
          ]);
          const rows = await table();
          const canary = rows.flatMap((r, i) =>
            r[0] === 'canary' && Number(r[2]) > 0 ? [`${i}:v${r[1]}`] : [],
          );
          const iris = rows.find((r) => r[0] === 'iris' && r[1] === '1');
          return { canary, irisRequests: Number(iris?.[2]) > 0, irisClientErrors: Number(iris?.[5]) > 0 };
        },
        { timeout: 10_000 },
      )
      .toEqual({
        canary: [expect.stringMatching(/:v1$/), expect.stringMatching(/:v2$/)],
        irisRequests: true,
        irisClientErrors: true,
      });
    // The canary's two versions sit on adjacent rows, each with its own latency.
    const rows = await table();
    const first = rows.findIndex((r) => r[0] === 'canary' && r[1] === '1');
    expect(rows[first + 1]?.slice(0, 2)).toEqual(['canary', '2']);
    expect(await page.locator('svg polyline').count()).toBeGreaterThan(0);
    expect(await page.locator('.legend').textContent()).toContain('canary v2');
    await screenshot(page, 'metrics');
    expect(await accessibilityProblems(page)).toEqual([]);
  });

  it('draws the last hour from CloudWatch where /metrics is not served, as deployed', async () => {
    const { page, errors, foreign } = await watchedPage(browser, api.apiUrl);
    // Deployed, API Gateway has no /metrics resource and answers that path with its own 403.
    await page.route(`${api.apiUrl}/metrics`, (route) =>
      route.fulfill({
        status: 403,
        contentType: 'application/json',
        body: '{"message":"Missing Authentication Token"}',
      }),
    );
    await signIn(page, api);
    await page.getByRole('link', { name: 'Metrics' }).click();
    await expect
      .poll(() => page.locator('main > p').first().textContent())
      .toMatch(/^Updated .+ from CloudWatch \(every minute\)$/);
    // The loopback CloudWatch's traffic (test/fixtures/cloudwatch.ts): version 1 served by two
    // functions adds up to 61 requests in the hour, 2 of them 4xx; version 2 had 5, one 5xx.
    expect(
      await page
        .locator('tbody tr')
        .evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => c.textContent))),
    ).toEqual([
      ['iris', '1', '0.02', '1.5 ms', '8.0 ms', '2', '0'],
      ['iris', '2', '0.00', '2.5 ms', '12.0 ms', '0', '1'],
    ]);
    expect(await page.locator('caption').textContent()).toMatch(
      /^Last hour \(\S+ to \S+\) from CloudWatch, by model and version$/,
    );
    expect(await page.locator('svg polyline').count()).toBe(2);
    expect(cloudwatch.calls.map((c) => c.target.split('.').pop())).toEqual([
      'ListMetrics',
      'ListMetrics',
      'GetMetricData',
    ]);
    await screenshot(page, 'metrics-cloudwatch');
    expect(await accessibilityProblems(page)).toEqual([]);
    // Chromium's own line for the refused /metrics; nothing from the page.
    expect(errors).toEqual([expect.stringMatching(/status of 403 \(Forbidden\)$/)]);
    expect(foreign).toEqual([]);
    await page.context().close();
  });

  it("shows the key's own usage by model and day, over a date range", async () => {
    const { page } = tab;
    await page.goto(`${api.apiUrl}/console#/usage`);
    await expect.poll(() => page.locator('main h2').count()).toBe(2);
    // The iris predictions of the tests before, written to the table after their answers.
    const byModel = page.getByRole('table', { name: /by model/ });
    const iris = byModel.locator('tbody tr', { hasText: /^iris\d/ });
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Show' }).click();
          return Number(
            await iris
              .locator('td')
              .nth(1)
              .textContent({ timeout: 1000 })
              .catch(() => '0'),
          );
        },
        { timeout: 10_000 },
      )
      .toBeGreaterThanOrEqual(10);
    expect(Number(await iris.locator('td').nth(6).textContent())).toBeGreaterThanOrEqual(1); // the bad row's 400
    const daily = page
      .getByRole('table', { name: /by day and model/ })
      .locator('tbody tr', { hasText: 'iris' });
    expect(await daily.first().locator('td').first().textContent()).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const lm = byModel.locator('tbody tr', { hasText: /^demo-lm/ });
    expect(Number((await lm.locator('td').nth(5).textContent())?.replaceAll(',', ''))).toBeGreaterThan(0);
    expect(await page.locator('.totals').textContent()).toMatch(/^Key default, \d{4}-\d{2}-\d{2} to /);
    await screenshot(page, 'usage');
    expect(await accessibilityProblems(page)).toEqual([]);
    // A range with no traffic, then a reversed one, refused before any request.
    await page.getByLabel('From (UTC)').fill('2020-01-01');
    await page.getByLabel('To (UTC)').fill('2020-01-31');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect
      .poll(() => page.locator('main').textContent())
      .toContain('No usage recorded for key default from 2020-01-01 to 2020-01-31.');
    await page.getByLabel('From (UTC)').fill('2020-02-01');
    await page.getByRole('button', { name: 'Show' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toBe('"from" (2020-02-01) is after "to" (2020-01-31)');
  });

  it('never logged an error nor asked another origin for anything', () => {
    expect(tab.errors).toEqual([]);
    expect(tab.foreign).toEqual([]);
  });
});
