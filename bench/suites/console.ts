/**
 * Benchmark `console` (table row 12): the console's bundle, gzipped (the docs
 * renderer counted apart), and the first paint of /console in headless
 * Chromium against the local topology.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildAssets } from '../../console/build.ts';
import { parseConfig } from '../../infra/config.ts';
import { launchChromium } from '../../local/chromium.ts';
import { startLocal } from '../../local/topology.ts';
import type { Lab } from '../lib/lab.ts';
import { median } from '../lib/process.ts';
import { limitRow, type Row } from '../lib/report.ts';

const gzipped = (dir: string, files: string[]) =>
  files.reduce((sum, file) => sum + gzipSync(readFileSync(join(dir, file)), { level: 9 }).length, 0) / 1024;

export async function consoleSuite(lab: Lab): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'modelgate-bench-console-'));
  const manifest = buildAssets(join(dir, 'assets'));
  const ours = gzipped(join(dir, 'assets'), [
    manifest['console.js'] as string,
    manifest['console.css'] as string,
  ]);
  const docs = gzipped(join(dir, 'assets'), [
    manifest['swagger-ui.js'] as string,
    manifest['swagger-ui.css'] as string,
    manifest['docs.js'] as string,
    manifest['docs.css'] as string,
  ]);

  const topology = await startLocal({
    config: parseConfig({}),
    home: dir,
    port: 0,
    s3Port: 0,
    bucket: 'modelgate',
    apiKey: 'bench-key-0123456789abcdef',
    plan: { name: 'unlimited' },
    languageModels: false,
  });
  const browser = await launchChromium();
  const paints: number[] = [];
  try {
    const loads = lab.options.quick ? 3 : 21;
    for (let i = 0; i < loads; i++) {
      // A fresh context each time: no cache, as a first visit.
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${topology.apiUrl}/console`);
      await page.waitForSelector('#key');
      const paint = await page.evaluate(
        `performance.getEntriesByType('paint').find((e) => e.name === 'first-contentful-paint')?.startTime`,
      );
      if (i > 0 && typeof paint === 'number') paints.push(paint);
      await context.close();
    }
  } finally {
    await browser.close();
    await topology.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    limitRow(
      {
        id: '12',
        measurement: 'console bundle (JS + CSS), gzipped',
        ours,
        unit: 'KB',
        digits: 1,
        peer: `docs renderer apart: ${docs.toFixed(0)} KB`,
      },
      150,
    ),
    limitRow(
      {
        id: '12',
        measurement: `/console first contentful paint, headless Chromium, local (median of ${paints.length} fresh loads)`,
        ours: median(paints),
        unit: 'ms',
      },
      500,
    ),
  ];
}
