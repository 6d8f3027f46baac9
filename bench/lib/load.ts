/** HTTP load with autocannon, and two systems compared under it in alternating rounds. */
import autocannon from 'autocannon';
import type { Lab } from './lab.ts';
import { median } from './process.ts';

export interface Load {
  rps: number;
  p99: number;
  errors: number;
}

/** `seconds` of POSTs of `body` to `url` over the run's connections. */
export async function load(
  url: string,
  headers: Record<string, string>,
  body: string,
  lab: Lab,
  seconds: number,
): Promise<Load> {
  const options = {
    url,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json', ...headers },
    body,
    connections: lab.options.connections,
  };
  const result = await autocannon({ ...options, duration: seconds });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

/**
 * Two systems under the same load, alternating rounds (A B A B A B) after a
 * warm-up of each, so a noisy neighbour hurts both; medians of the rounds.
 */
export async function alternate(
  lab: Lab,
  a: () => Promise<Load>,
  b: (() => Promise<Load>) | undefined,
): Promise<{ a: Load; b: Load | undefined }> {
  const rounds = lab.options.quick ? 1 : 3;
  const runs: { a: Load[]; b: Load[] } = { a: [], b: [] };
  for (let i = 0; i < rounds; i++) {
    runs.a.push(await a());
    if (b) runs.b.push(await b());
  }
  const summary = (loads: Load[]): Load => ({
    rps: median(loads.map((l) => l.rps)),
    p99: median(loads.map((l) => l.p99)),
    errors: loads.reduce((sum, l) => sum + l.errors, 0),
  });
  return { a: summary(runs.a), b: b ? summary(runs.b) : undefined };
}
