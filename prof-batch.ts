import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startChild, stop } from './bench/lib/process.ts';
import { batchRun } from './bench/lib/topology-runs.ts';
const format = (process.argv[2] ?? 'csv') as 'csv' | 'jsonl';
import { spawn } from 'node:child_process';
import { firstLine } from './bench/lib/process.ts';
const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir=/tmp/bprof', '--import', 'tsx', 'bench/servers/topology.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
const ready = JSON.parse(await firstLine(child)) as { s3Url: string; bucket: string; pid: number };
const run = await batchRun(ready, format, 1_000_000);
console.log(JSON.stringify({ ...run, peer: undefined }));
await stop(child);
await new Promise((r) => setTimeout(r, 1000));
interface N { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
for (const file of readdirSync('/tmp/bprof').filter((f) => f.endsWith('.cpuprofile'))) {
  const profile = JSON.parse(readFileSync(join('/tmp/bprof', file), 'utf8')) as { nodes: N[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (n: N) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\/(node_modules\/)?/, '')}:${n.callFrame.lineNumber}`;
  const self = new Map<string, number>(); const inc = new Map<string, number>(); let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0; total += dt;
    const leaf = byId.get(id)!; self.set(name(leaf), (self.get(name(leaf)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = name(byId.get(cur)!); if (!seen.has(k)) inc.set(k, (inc.get(k) ?? 0) + dt); seen.add(k);
    }
  });
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, t]) => `${(t / 1e6).toFixed(2).padStart(6)} s ${((100 * t) / total).toFixed(1).padStart(5)} %  ${k}`).join('\n');
  console.log(`${file} total ${(total / 1e6).toFixed(1)} s\nSELF\n${top(self, 30)}\nINCL\n${top(inc, 45)}`);
}
process.exit(0);
