/**
 * `npm run bench:profile`: where the api server's time goes under load. The
 * api server (bundled, as deployed) runs with `node --cpu-prof` while
 * autocannon sends single-row iris predicts for 10 s; prints the functions
 * with the most self time and the heaviest call paths (inclusive time) — the
 * text form of a flame graph —, the server's CPU time per request (a figure
 * that a shared machine disturbs less than requests/s), and leaves the .cpuprofile (open it in Chrome
 * DevTools or speedscope for the graph itself).
 *
 *   npm run bench:profile [-- --duration 10 --connections 32]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { localS3Client, startLocalS3 } from '../local/s3.ts';
import { seedSampleModels } from '../local/seed.ts';
import { bundle } from './lib/bundle.ts';
import { firstLine, stop } from './lib/process.ts';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' } },
});
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const work = mkdtempSync(join(tmpdir(), 'modelgate-profile-'));
const store = await startLocalS3({ port: 0, directory: join(work, 's3'), bucket: 'modelgate' });
await seedSampleModels(localS3Client(store.url), 'modelgate');
// Not minified, so the profile names the functions.
const server = await bundle('bench/servers/api.ts', 'api-server-profile.mjs', false);
const child = spawn(
  process.execPath,
  ['--cpu-prof', `--cpu-prof-dir=${work}`, server, store.url, 'modelgate'],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, MODELGATE_BENCH_HANDLER_CALLS: '2000' },
  },
);
const ready = JSON.parse(await firstLine(child)) as { url: string; apiKey: string; pid: number };
const cpuBefore = cpuMicros(ready.pid);
const result = await autocannon({
  url: `${ready.url}/v1/models/iris/predict`,
  method: 'POST',
  headers: { 'content-type': 'application/json', 'x-api-key': ready.apiKey },
  body: JSON.stringify({ instances: [[5.1, 3.5, 1.4, 0.2]] }),
  connections: Number(values.connections),
  duration: Number(values.duration),
});
// The server's own CPU time per answered request: what the profile's shares divide.
const cpuPerRequest = (cpuMicros(ready.pid) - cpuBefore) / result.requests.total;
await stop(child);
await store.close();

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const file = readdirSync(work).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error('no profile written');
const profile = JSON.parse(readFileSync(join(work, file), 'utf8')) as {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
};
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const name = (n: ProfileNode) => {
  const where = n.callFrame.url.replace(/^.*\/(node_modules\/)?/, '').replace(/^file:\/\//, '');
  return `${n.callFrame.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
};
const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const leaf = byId.get(id) as ProfileNode;
  self.set(name(leaf), (self.get(name(leaf)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const key = name(byId.get(cur) as ProfileNode);
    if (!seen.has(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    seen.add(key);
  }
});
const top = (m: Map<string, number>, n: number) =>
  [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, t]) => `${((100 * t) / total).toFixed(1).padStart(5)} %  ${k}`)
    .join('\n');
console.log(
  `${result.requests.average.toFixed(0)} requests/s, ${cpuPerRequest.toFixed(0)} µs of the server's CPU per request (user + system, under the profiler); profile ${join(work, file)}\n`,
);
console.log(`Self time\n${top(self, 25)}\n\nInclusive time\n${top(inclusive, 30)}`);
process.exit(0);

/** User + system CPU time of a process so far, in µs (Linux: /proc, 100 ticks a second). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}
