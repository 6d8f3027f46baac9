/**
 * HTTP load (wrk when installed, else autocannon), and several systems compared
 * under it in alternating rounds.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import type { Lab } from './lab.ts';
import { median } from './process.ts';

const run = promisify(execFile);

export interface Load {
  rps: number;
  p99: number;
  /** Socket errors, timeouts and answers other than 2xx: a run with any is not a measurement. */
  errors: number;
}

/** Debian's wrk (C, two threads) when installed: it takes less of the shared cores than autocannon. */
export const LOAD_TOOL: 'wrk' | 'autocannon' = (() => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return 'wrk';
  } catch (error) {
    // wrk --version exits 1 after printing its version.
    return (error as { status?: number }).status === 1 ? 'wrk' : 'autocannon';
  }
})();

/** `seconds` of POSTs of `body` to `url` over the run's connections. */
export async function load(
  url: string,
  headers: Record<string, string>,
  body: string,
  lab: Lab,
  seconds: number,
): Promise<Load> {
  const all = { 'content-type': 'application/json', ...headers };
  if (LOAD_TOOL === 'wrk') return wrk(url, all, body, lab.options.connections, seconds);
  const result = await autocannon({
    url,
    method: 'POST',
    headers: all,
    body,
    connections: lab.options.connections,
    duration: seconds,
  });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

/** The Lua wrk runs to send the POST and count non-2xx answers (wrk's own count includes 3xx). */
const SCRIPT = `wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY")
for line in os.getenv("WRK_HEADERS"):gmatch("[^\\n]+") do
  local name, value = line:match("^([^:]+): (.*)$")
  wrk.headers[name] = value
end
local bad = 0
function response(status) if status < 200 or status > 299 then bad = bad + 1 end end
function done(summary, latency, requests)
  io.write(string.format("MODELGATE %d %d %f %d\\n", summary.requests, summary.duration,
    latency:percentile(99), bad + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
`;
let scriptPath: string | undefined;

async function wrk(
  url: string,
  headers: Record<string, string>,
  body: string,
  connections: number,
  seconds: number,
): Promise<Load> {
  if (!scriptPath) {
    scriptPath = join(mkdtempSync(join(tmpdir(), 'modelgate-wrk-')), 'post.lua');
    writeFileSync(scriptPath, SCRIPT);
  }
  const { stdout } = await run(
    'wrk',
    ['-t2', `-c${connections}`, `-d${Math.max(1, Math.round(seconds))}s`, '-s', scriptPath, url],
    {
      env: {
        ...process.env,
        WRK_BODY: body,
        WRK_HEADERS: Object.entries(headers)
          .map(([k, v]) => `${k}: ${v}`)
          .join('\n'),
      },
    },
  );
  const m = /MODELGATE (\d+) (\d+) ([\d.]+) (\d+)/.exec(stdout);
  if (!m) throw new Error(`wrk printed no summary: ${stdout}`);
  const [requests, micros, p99us, errors] = m.slice(1).map(Number) as [number, number, number, number];
  return { rps: requests / (micros / 1e6), p99: p99us / 1000, errors };
}

/**
 * Systems under the same load in alternating rounds (A B C A B C …) after a
 * warm-up of each, so a noisy neighbour hurts all of them; medians of the
 * rounds. A system that is undefined (not installed) is skipped.
 */
export async function alternate<K extends string>(
  lab: Lab,
  systems: Record<K, (() => Promise<Load>) | undefined>,
): Promise<Record<K, Load | undefined>> {
  const rounds = lab.options.quick ? 1 : 3;
  const names = Object.keys(systems) as K[];
  const runs = new Map<K, Load[]>(names.map((n) => [n, []]));
  for (let i = 0; i < rounds; i++) {
    for (const name of names) {
      const system = systems[name];
      if (system) runs.get(name)?.push(await system());
    }
  }
  const summary = (loads: Load[]): Load | undefined =>
    loads.length === 0
      ? undefined
      : {
          rps: median(loads.map((l) => l.rps)),
          p99: median(loads.map((l) => l.p99)),
          errors: loads.reduce((sum, l) => sum + l.errors, 0),
        };
  return Object.fromEntries(names.map((n) => [n, summary(runs.get(n) ?? [])])) as Record<K, Load | undefined>;
}
