/** The page routes: security headers, hashed assets only, a clear answer when the assets are not built. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createPageRoutes, SECURITY_HEADERS } from '../../../functions/api/pages.ts';

const event = (file?: string) =>
  ({ pathParameters: file === undefined ? null : { file } }) as unknown as APIGatewayProxyEvent;
const noModel = async () => {
  throw new Error('not called');
};

function built() {
  const dir = mkdtempSync(join(tmpdir(), 'assets-'));
  const manifest = {
    'console.js': 'console.0123456789ab.js',
    'console.css': 'console.0123456789ab.css',
    'docs.js': 'docs.0123456789ab.js',
    'docs.css': 'docs.0123456789ab.css',
    'swagger-ui.js': 'swagger-ui.0123456789ab.js',
    'swagger-ui.css': 'swagger-ui.0123456789ab.css',
  };
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  for (const file of Object.values(manifest)) writeFileSync(join(dir, file), `/* ${file} */`);
  writeFileSync(join(dir, 'secret.txt'), 'not an asset');
  return dir;
}

describe('page routes', () => {
  it('serves the console page with a strict CSP and only hashed, same-origin scripts', async () => {
    const routes = createPageRoutes({ assetsDir: built(), version: '1', model: noModel });
    const page = await routes['GET /console']();
    expect(page.headers).toMatchObject({ ...SECURITY_HEADERS, 'Content-Type': 'text/html; charset=utf-8' });
    expect(page.headers?.['Content-Security-Policy']).toMatch(
      /^default-src 'self';.*frame-ancestors 'none'$/,
    );
    expect(page.body).toContain('<script type="module" src="assets/console.0123456789ab.js"></script>');
    // No inline script: every <script> has a src.
    expect(page.body.match(/<script(?![^>]*\ssrc=)[^>]*>/g)).toBeNull();
    const docs = await routes['GET /docs']();
    expect(docs.body).toContain('src="assets/swagger-ui.0123456789ab.js"');
    // Swagger UI's stylesheet, then the reference's own adjustments to it.
    expect(docs.body).toMatch(
      /swagger-ui\.0123456789ab\.css">\n<link rel="stylesheet" href="assets\/docs\.0123456789ab\.css">/,
    );
  });

  it('serves the files the build named, cached for a year, and nothing else in the folder', async () => {
    const routes = createPageRoutes({ assetsDir: built(), version: '1', model: noModel });
    const js = await routes['GET /assets/{file}'](event('console.0123456789ab.js'));
    expect(js).toMatchObject({ statusCode: 200, body: '/* console.0123456789ab.js */' });
    expect(js.headers).toMatchObject({
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'public, max-age=31536000, immutable',
      'X-Content-Type-Options': 'nosniff',
    });
    for (const file of ['secret.txt', 'manifest.json', '../manifest.json', ''])
      await expect(routes['GET /assets/{file}'](event(file))).rejects.toThrow(/no asset/);
  });

  it('answers 503 saying how to build when the assets are missing', async () => {
    const routes = createPageRoutes({
      assetsDir: join(tmpdir(), 'no-such-assets'),
      version: '1',
      model: noModel,
    });
    await expect(routes['GET /console']()).rejects.toMatchObject({
      statusCode: 503,
      message: expect.stringMatching(/not built .* run npx tsx console\/build.ts/),
    });
  });
});
