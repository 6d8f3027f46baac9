/**
 * The route table's surface: no route writes the registry, and every route needs a key but health, server
 * metadata, the API description and its pages.
 */
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../../functions/api/routes.ts';
import { CHAT_ROUTES } from '../../../functions/chat/routes.ts';
import { KEYLESS_RESOURCES, keylessResources } from '../../fixtures/routes.ts';

describe('the API surface', () => {
  const routes = [...API_ROUTES, ...CHAT_ROUTES];

  it('has no route that writes the model registry: publishing and promoting need AWS credentials', () => {
    expect(routes.every((r) => r.method === 'GET' || r.method === 'POST')).toBe(true);
    // Every POST is a computation on the caller's input (or a batch job over a file already in the bucket).
    expect(
      routes
        .filter((r) => r.method === 'POST')
        .map((r) => r.resource)
        .sort(),
    ).toEqual([
      '/v1/batches',
      '/v1/chat/completions',
      '/v1/completions',
      '/v1/models/{model}/predict',
      '/v2/models/{model}/infer',
      '/v2/models/{model}/versions/{version}/infer',
    ]);
    expect(routes.some((r) => /alias|promote|publish|upload|delete/i.test(r.resource))).toBe(false);
  });

  it('requires a key everywhere but health, server metadata, the API description and the pages that read it', () => {
    expect(keylessResources(routes)).toEqual(KEYLESS_RESOURCES);
    // Pages and assets are GETs that carry no data: every model, registry and batch read needs a key.
    expect(routes.filter((r) => !r.apiKeyRequired).every((r) => r.method === 'GET')).toBe(true);
  });
});
