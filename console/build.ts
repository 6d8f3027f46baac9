/**
 * Builds the console (console/src, bundled by esbuild) and the API reference
 * (Swagger UI from swagger-ui-dist) into one folder of content-hashed files
 * plus manifest.json, which the api function serves under /assets/.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
/** Where `npm start` and the tests serve the assets from. */
const DEFAULT_ASSETS_DIR = join(here, 'dist');

/** Logical name → hashed file name. */
type AssetManifest = Record<string, string>;

function bundle(entry: string): Buffer {
  const result = buildSync({
    entryPoints: [join(here, 'src', entry)],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    write: false,
    legalComments: 'none',
  });
  return Buffer.from((result.outputFiles[0] as { contents: Uint8Array }).contents);
}

/** Writes every asset to `out` (emptied first) and returns the manifest. */
export function buildAssets(out: string = DEFAULT_ASSETS_DIR): AssetManifest {
  const require = createRequire(import.meta.url);
  const swagger = dirname(require.resolve('swagger-ui-dist/package.json'));
  const sources: Record<string, Buffer> = {
    'console.js': bundle('main.ts'),
    'console.css': readFileSync(join(here, 'src', 'console.css')),
    'docs.js': bundle('docs.ts'),
    'docs.css': readFileSync(join(here, 'src', 'docs.css')),
    'swagger-ui.js': readFileSync(join(swagger, 'swagger-ui-bundle.js')),
    'swagger-ui.css': readFileSync(join(swagger, 'swagger-ui.css')),
  };
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const manifest: AssetManifest = {};
  for (const [name, body] of Object.entries(sources)) {
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
    const file = name.replace(/\.(\w+)$/, `.${hash}.$1`);
    writeFileSync(join(out, file), body);
    manifest[name] = file;
  }
  writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const manifest = buildAssets(process.argv[2] ?? DEFAULT_ASSETS_DIR);
  console.log(JSON.stringify(manifest));
}
