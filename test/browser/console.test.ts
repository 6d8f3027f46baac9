/**
 * The console in Debian's Chromium against the whole local topology: a refused key, sign out, the
 * models with their routing, a hostile manifest shown as text, and predict tried on a tabular and an
 * image model; axe-core clean, no console error, nothing fetched from another origin.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestTopology } from '../fixtures/local.ts';
import { accessibilityProblems, screenshot, type Watched, watchedPage } from './browser.ts';
import { HOSTILE } from './models.ts';
import { type Suite, signIn, startSuite } from './suite.ts';

let api: TestTopology;
let browser: Browser;
let tab: Watched;
let suite: Suite;

beforeAll(async () => {
  suite = await startSuite({ languageModels: false });
  ({ api, browser, tab } = suite);
});
afterAll(() => suite?.close());

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
    await signIn(page, api);
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
    expect(curl).toContain(`curl -s '${api.apiUrl}/v2/models/iris/versions/1/infer'`);
    expect(curl).toContain('[6.7,3,5.2,2.3]');
    expect(curl).not.toContain(api.apiKey);
    await page.getByRole('button', { name: 'Copy as Python' }).click();
    expect(await page.getByLabel('Request code').textContent()).toContain('requests.post(');
    // The JavaScript copy runs as it is and gets the answer the page showed.
    await page.getByRole('button', { name: 'Copy as JavaScript' }).click();
    const js = (await page.getByLabel('Request code').textContent()) as string;
    expect(js).toContain(`fetch("${api.apiUrl}/v2/models/iris/versions/1/infer"`);
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

  it('tries the version production serves most, pinned, when a canary and a newer shadow exist', async () => {
    const { page } = tab;
    await page.goto(`${api.apiUrl}/console#/models/canary`);
    await expect
      .poll(() => page.getByText(/^Version \d+, the one production serves most/).textContent())
      .toMatch(/^Version 1,/);
    await page.getByRole('button', { name: 'Predict' }).click();
    await expect.poll(() => page.locator('details pre').textContent()).toContain('"model_version": "1"');
    await page.getByRole('button', { name: 'Copy as curl' }).click();
    expect(await page.getByLabel('Request code').textContent()).toContain(
      '/v2/models/canary/versions/1/infer',
    );
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

  it('never logged an error nor asked another origin for anything', () => {
    expect(tab.errors).toEqual([]);
    expect(tab.foreign).toEqual([]);
  });
});
