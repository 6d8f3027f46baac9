/**
 * The console, the API reference and the OpenAPI document in Debian's Chromium
 * against the whole local topology: sign in, models, try predict (tabular and
 * image), chat streaming and stop, batches, live metrics, usage, hostile names shown as text,
 * axe-core clean, no console error, nothing fetched from another origin.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_KEY_HEADER } from '../../functions/api/routes.ts';
import { ENV } from '../../functions/core/env.ts';
import { hashToUnit, pickRoute } from '../../functions/core/registry/canary.ts';
import type { Alias } from '../../functions/core/registry/manifest.ts';
import { settledManifest } from '../fixtures/batch.ts';
import { type FakeCloudWatch, startCloudWatch } from '../fixtures/cloudwatch.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';
import { accessibilityProblems, launch, screenshot, type Watched, watchedPage } from './browser.ts';
import { CANARY, HOSTILE, publishCanary, publishHostile } from './models.ts';

let api: TestTopology;
let browser: Browser;
let tab: Watched;

let cloudwatch: FakeCloudWatch;

beforeAll(async () => {
  // GET /v1/metrics on, as the stack turns it on, against a loopback CloudWatch.
  cloudwatch = await startCloudWatch();
  process.env[ENV.CLOUDWATCH_METRICS] = 'true';
  process.env[ENV.CLOUDWATCH_ENDPOINT] = cloudwatch.url;
  api = await startTestTopology({ languageModels: true });
  await publishHostile(api);
  await publishCanary(api);
  browser = await launch();
  tab = await watchedPage(browser, api.apiUrl);
});
afterAll(async () => {
  await browser?.close();
  await api?.close();
  await cloudwatch?.close();
  delete process.env[ENV.CLOUDWATCH_METRICS];
  delete process.env[ENV.CLOUDWATCH_ENDPOINT];
});

describe('the console in a browser', () => {
  it('refuses a wrong key with a message', async () => {
    const { page, errors, foreign } = await watchedPage(browser, api.apiUrl);
    await page.goto(`${api.apiUrl}/console`);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByLabel('API key').fill('not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/key was refused \(Forbidden\)/);
    expect(await page.evaluate('sessionStorage.length + localStorage.length')).toBe(0);
    await screenshot(page, 'sign-in-refused');
    expect(await accessibilityProblems(page)).toEqual([]);
    // Chromium logs the refused request itself; the page adds no error of its own.
    expect(errors).toEqual([expect.stringMatching(/status of 403 \(Forbidden\)$/)]);
    expect(foreign).toEqual([]);
    await page.context().close();
  });

  it('signs out: the key leaves the tab, and nothing is sent with it afterwards', async () => {
    const { page, errors, foreign } = await watchedPage(browser, api.apiUrl);
    const keyed: string[] = [];
    page.on('request', (r) => {
      if (r.headers()['x-api-key']) keyed.push(r.url());
    });
    await page.goto(`${api.apiUrl}/console`);
    await page.getByLabel('API key').fill(api.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('tbody tr').count()).toBeGreaterThan(0);
    expect(await page.evaluate('Object.values(sessionStorage)')).toEqual([api.apiKey]);
    expect(keyed.length).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Sign in' }).count()).toBe(1);
    expect(await page.evaluate('sessionStorage.length + localStorage.length')).toBe(0);
    // A reload and a page's own address ask for the key again, and send none.
    keyed.length = 0;
    await page.reload();
    await page.goto(`${api.apiUrl}/console#/batches`);
    await expect.poll(() => page.getByLabel('API key').count()).toBe(1);
    expect(await page.getByRole('navigation').count()).toBe(0);
    expect(keyed).toEqual([]);
    expect(page.url()).not.toContain(api.apiKey);
    expect(errors).toEqual([]);
    expect(foreign).toEqual([]);
    await page.context().close();
  });

  it('signs in and lists every model with versions, routing, size and date; hostile text stays text', async () => {
    const { page } = tab;
    const response = await page.goto(`${api.apiUrl}/console`);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response?.headers()['x-content-type-options']).toBe('nosniff');
    await page.getByLabel('API key').fill(api.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const rows = page.locator('tbody tr');
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(5);
    expect(await page.locator('tbody').textContent()).toMatch(/iris1latest \(version 1\)/);
    // The folder named with markup is no model: not listed, and the page is not broken by it.
    expect(await page.locator('tbody tr', { hasText: /^hostile1/ }).count()).toBe(1);
    expect(await page.locator('main').textContent()).not.toContain('onerror');
    // Production routing drawn as weights, the shadow, the newest version's size and date.
    const canary = page.locator('tbody tr', { hasText: /^canary/ });
    const cells = canary.locator('td');
    expect(await cells.nth(1).textContent()).toBe('1, 2, 3');
    expect(
      await canary.locator('.bar').evaluateAll((bars) => bars.map((b) => b.getAttribute('aria-label'))),
    ).toEqual(['v1: 90%', 'v2: 10%']);
    expect(
      await canary
        .locator('.bar .fill')
        .evaluateAll((fills) => fills.map((f) => (f as unknown as { style: { width: string } }).style.width)),
    ).toEqual(['90%', '10%']);
    expect(await canary.locator('.shadow').textContent()).toBe('shadow: v3');
    const newest = (await api.call('/v2/models/canary/registry')).json.versions.at(-1);
    expect(await cells.nth(3).textContent()).toBe(`${(newest.sizeBytes / 1024).toFixed(1)} KiB`);
    expect(await cells.nth(4).textContent()).toBe(newest.createdAt.slice(0, 10));
    expect(page.url()).not.toContain(api.apiKey);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    await screenshot(page, 'models');
    expect(await accessibilityProblems(page)).toEqual([]);
  });

  it('shows a hostile manifest as text, never as markup', async () => {
    const { page } = tab;
    await page.goto(`${api.apiUrl}/console#/models/hostile`);
    await expect
      .poll(() => page.locator('main').textContent())
      .toContain(`Labels: ${HOSTILE}, <b>bold</b>, plain`);
    await page.getByRole('button', { name: 'Predict' }).click();
    await expect
      .poll(() => page.locator('.bar-label').allTextContents())
      .toEqual([HOSTILE, '<b>bold</b>', 'plain']);
    expect(await page.locator('main img, main script, main b').count()).toBe(0);
    expect(await page.getByLabel(HOSTILE, { exact: true }).count()).toBe(1);
    await screenshot(page, 'model-hostile');
  });

  it('tries predict on a tabular model: fields per feature, probability bars, V2 JSON, copy as curl', async () => {
    const { page } = tab;
    await page.goto(`${api.apiUrl}/console#/models/iris`);
    for (const [feature, value] of Object.entries({
      sepal_length: 6.7,
      sepal_width: 3,
      petal_length: 5.2,
      petal_width: 2.3,
    }))
      await page.getByLabel(feature).fill(String(value));
    await page.getByRole('button', { name: 'Predict' }).click();
    await expect.poll(() => page.locator('.prediction').textContent()).toBe('Prediction: virginica');
    expect(await page.locator('.bar').count()).toBe(3);
    expect(await page.locator('details pre').textContent()).toContain('"model_name": "iris"');
    await page.getByRole('button', { name: 'Copy as curl' }).click();
    const curl = await page.getByLabel('Request code').textContent();
    expect(curl).toContain(`curl -s '${api.apiUrl}/v2/models/iris/infer'`);
    expect(curl).toContain('[6.7,3,5.2,2.3]');
    expect(curl).not.toContain(api.apiKey);
    await page.getByRole('button', { name: 'Copy as Python' }).click();
    expect(await page.getByLabel('Request code').textContent()).toContain('requests.post(');
    // The JavaScript copy runs as it is and gets the answer the page showed.
    await page.getByRole('button', { name: 'Copy as JavaScript' }).click();
    const js = (await page.getByLabel('Request code').textContent()) as string;
    expect(js).toContain(`fetch("${api.apiUrl}/v2/models/iris/infer"`);
    expect(js).not.toContain(api.apiKey);
    const file = join(mkdtempSync(join(tmpdir(), 'modelgate-snippet-')), 'predict.mjs');
    writeFileSync(file, js);
    const { stdout } = await promisify(execFile)(process.execPath, [file], {
      env: { ...process.env, MODELGATE_API_KEY: api.apiKey },
    });
    // console.log of the answer: the V2 answer of iris, not an error.
    expect(stdout).toMatch(/^\{\n {2}model_name: 'iris',\n {2}model_version: '1',\n {2}outputs: \[/);
    // The manifest's tensors, features and labels.
    const { json: registry } = await api.call('/v2/models/iris/registry');
    const manifest = registry.versions.at(-1);
    const tensors = page.getByRole('table', { name: 'Inputs and outputs' }).locator('tbody tr');
    expect(
      await tensors.evaluateAll((rows) => rows.map((r) => [...r.children].map((c) => c.textContent))),
    ).toEqual([
      ...manifest.inputs.map((t: { name: string; datatype: string; shape: number[] }) => [
        'input',
        t.name,
        t.datatype,
        JSON.stringify(t.shape),
      ]),
      ...manifest.outputs.map((t: { name: string; datatype: string; shape: number[] }) => [
        'output',
        t.name,
        t.datatype,
        JSON.stringify(t.shape),
      ]),
    ]);
    expect(await page.locator('main').textContent()).toContain(`Features: ${manifest.features.join(', ')}`);
    expect(await page.locator('main').textContent()).toContain(`Labels: ${manifest.labels.join(', ')}`);
    await screenshot(page, 'model-iris');
    expect(await accessibilityProblems(page)).toEqual([]);
  });

  it('tries predict on an image model: draws in the grid, bars over the ten digits', async () => {
    const { page } = tab;
    await page.goto(`${api.apiUrl}/console#/models/digits-cnn`);
    await expect.poll(() => page.locator('.grid .cell').count()).toBe(64);
    // A "1": one stroke down the middle of the 8×8 grid.
    for (let row = 1; row <= 6; row++)
      await page.getByRole('button', { name: `pixel ${row},4`, exact: true }).click();
    expect(await page.locator('.cell[aria-pressed="true"]').count()).toBe(6);
    await page.getByRole('button', { name: 'Predict' }).click();
    await expect
      .poll(() => page.locator('.bar-label').allTextContents())
      .toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    const values = (await page.locator('.bar-value').allTextContents()).map(Number);
    expect(values.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
    const predicted = (await page.locator('.prediction strong').textContent()) as string;
    expect(values.indexOf(Math.max(...values))).toBe(Number(predicted));
    expect(predicted).toBe('1');
    const request = (await page.locator('details pre').first().textContent()) as string;
    expect(request).toMatch(/"shape": \[\s*1,\s*1,\s*8,\s*8\s*\]/);
    await screenshot(page, 'model-digits-cnn');
    expect(await accessibilityProblems(page)).toEqual([]);
  });

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
    await page.goto(`${api.apiUrl}/console`);
    await page.getByLabel('API key').fill(api.apiKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
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

  it('renders the API reference from /openapi.json, and "try it" answers with the key', async () => {
    const { page } = tab;
    await page.goto(`${api.apiUrl}/docs`);
    await page
      .getByRole('button', { name: /Authorize/ })
      .first()
      .click();
    await page.locator('.modal-ux input').first().fill(api.apiKey);
    await page.locator('.modal-ux button.authorize').first().click();
    await page.locator('.modal-ux button.btn-done').first().click();
    const op = page.locator('#operations-Models-getV2Models');
    await op.locator('.opblock-summary').click();
    // "Try it out" is on from the start (tryItOutEnabled): Execute is there at once.
    await op.getByRole('button', { name: 'Execute' }).click();
    await expect
      .poll(() => op.locator('.live-responses-table tbody .response-col_status').first().textContent())
      .toContain('200');
    expect(await op.locator('.live-responses-table').textContent()).toContain('iris');
    await screenshot(page, 'docs');
    // Swagger UI as served here, an answer on screen, then a body to edit: no serious or critical
    // violation either.
    expect(await accessibilityProblems(page)).toEqual([]);
    const predict = page.locator('#operations-Inference-postV1ModelsModelPredict');
    await predict.locator('.opblock-summary').click();
    await expect.poll(() => predict.getByLabel('Request body').count()).toBe(1);
    expect(await accessibilityProblems(page)).toEqual([]);
  });

  it("serves /openapi.json without a key and a model's document only with one, both valid OpenAPI 3.1", async () => {
    const whole = await api.call('/openapi.json', { key: null });
    expect(whole.status).toBe(200);
    await expect(SwaggerParser.validate(whole.json)).resolves.toMatchObject({ openapi: '3.1.0' });
    expect((await api.call('/v2/models/iris/openapi.json', { key: null })).status).toBe(403);
    const iris = await api.call('/v2/models/iris/openapi.json');
    expect(iris.status).toBe(200);
    await expect(SwaggerParser.validate(iris.json)).resolves.toBeDefined();
    expect(
      iris.json.paths['/v1/models/iris/predict'].post.requestBody.content['application/json'].schema
        .properties.instances.items.oneOf[1].required,
    ).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    expect((await api.call('/v2/models/nope/openapi.json')).json).toEqual({
      error: "model 'nope' not found",
    });
  });

  it('never logged an error nor asked another origin for anything', () => {
    expect(tab.errors).toEqual([]);
    expect(tab.foreign).toEqual([]);
  });
});
