/**
 * The API reference (/docs, Swagger UI served by ModelGate) in Debian's Chromium, "try it" with the
 * key, axe-core clean with an answer, a request body and a schema open; /openapi.json without a key and a model's document with one, both valid.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestTopology } from '../fixtures/local.ts';
import { accessibilityProblems, screenshot, type Watched } from './browser.ts';
import { type Suite, startSuite } from './suite.ts';

let api: TestTopology;
let tab: Watched;
let suite: Suite;

beforeAll(async () => {
  suite = await startSuite({ languageModels: false });
  ({ api, tab } = suite);
});
afterAll(() => suite?.close());

describe('the API reference in a browser', () => {
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
    // The Schemas section, open on the chat request (the schema the chat function checks requests with).
    const models = page.locator('section.models');
    const schemas = models.getByRole('button', { name: 'Schemas' });
    if ((await schemas.getAttribute('aria-expanded')) !== 'true') await schemas.click();
    const chat = models.locator('article', { has: page.getByText('ChatRequest', { exact: true }) });
    await chat.getByRole('button', { name: 'Expand all' }).first().click();
    await expect.poll(() => chat.textContent()).toContain('tool_call_id');
    await screenshot(page, 'docs-schemas');
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
