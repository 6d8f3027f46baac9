/**
 * The routes a browser reads: the OpenAPI documents, the rendered reference
 * (/docs), the console (/console) and their content-hashed assets, all from
 * this origin under a strict Content-Security-Policy.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { NotFoundError, ServiceUnavailableError } from '../core/errors.ts';
import { json } from '../core/http.ts';
import { openApiDocument } from '../core/openapi/document.ts';
import { modelOpenApiDocument } from '../core/openapi/model.ts';
import type { Manifest } from '../core/registry/manifest.ts';

/** No script but this origin's files, no framing, no sniffing: every page and asset carries these. */
export const SECURITY_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
} as const;

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

type Handler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

export interface PageDependencies {
  readonly assetsDir: string;
  readonly version: string;
  /** The manifest and versions a model request would be served by. */
  readonly model: (event: APIGatewayProxyEvent) => Promise<{ manifest: Manifest; versions: string[] }>;
}

function html(title: string, head: string, body: string): APIGatewayProxyResult {
  return {
    statusCode: 200,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache', ...SECURITY_HEADERS },
    body: `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="data:,">
${head}
</head>
<body>
${body}
</body>
</html>
`,
  };
}

export function createPageRoutes(deps: PageDependencies) {
  let manifest: Promise<Record<string, string>> | undefined;
  const files = new Map<string, Promise<string>>();

  const assets = (): Promise<Record<string, string>> => {
    manifest ??= readFile(join(deps.assetsDir, 'manifest.json'), 'utf8').then(
      (text) => JSON.parse(text) as Record<string, string>,
      () => {
        manifest = undefined;
        throw new ServiceUnavailableError(
          `the console's assets are not built in ${deps.assetsDir}: run npx tsx console/build.ts`,
        );
      },
    );
    return manifest;
  };
  const asset = async (name: string) => `assets/${(await assets())[name]}`;

  // The reference depends on the version alone: built once, on the first request for it.
  let reference: ReturnType<typeof openApiDocument> | undefined;
  const routes = {
    'GET /openapi.json': async () => {
      reference ??= openApiDocument({ version: deps.version });
      return json(200, reference, { 'X-Content-Type-Options': 'nosniff' });
    },
    'GET /v2/models/{model}/openapi.json': async (event) => {
      const { manifest, versions } = await deps.model(event);
      return json(200, modelOpenApiDocument(manifest, versions, deps.version), {
        'X-Content-Type-Options': 'nosniff',
      });
    },
    'GET /docs': async () =>
      html(
        'ModelGate API reference',
        `<link rel="stylesheet" href="${await asset('swagger-ui.css')}">
<link rel="stylesheet" href="${await asset('docs.css')}">
<script defer src="${await asset('swagger-ui.js')}"></script>
<script type="module" src="${await asset('docs.js')}"></script>`,
        '<main id="swagger-ui"></main>',
      ),
    'GET /console': async () =>
      html(
        'ModelGate console',
        `<link rel="stylesheet" href="${await asset('console.css')}">
<script type="module" src="${await asset('console.js')}"></script>`,
        '<div id="app"><noscript>The console needs JavaScript.</noscript></div>',
      ),
    'GET /assets/{file}': async (event) => {
      const file = event.pathParameters?.file ?? '';
      // Only files the build named are served: nothing else in the folder, no path tricks.
      if (!Object.values(await assets()).includes(file)) {
        throw new NotFoundError(`no asset '${file}': assets are named by the build, like console.<hash>.js`);
      }
      let body = files.get(file);
      if (!body) {
        body = readFile(join(deps.assetsDir, file), 'utf8');
        files.set(file, body);
      }
      return {
        statusCode: 200,
        headers: {
          'Content-Type': TYPES[file.split('.').pop() ?? ''] ?? 'application/octet-stream',
          // The name changes with the content: cache for a year.
          'Cache-Control': 'public, max-age=31536000, immutable',
          ...SECURITY_HEADERS,
        },
        body: await body,
      };
    },
  } satisfies Record<string, Handler>;
  return routes;
}
