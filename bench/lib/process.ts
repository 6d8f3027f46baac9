/**
 * Process helpers the benchmarks share: child processes started (ready at their first JSON line) and stopped,
 * memory read from /proc, call latencies and medians, and the REST event of a predict request.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEvent } from 'aws-lambda';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const PYTHON = '/usr/bin/python3';

/**
 * Starts a child that prints one JSON line when ready; returns it and that
 * line. A `.ts` script (relative to the repository) runs through tsx, an
 * absolute `.mjs` path in plain node.
 */
export async function startChild<T>(script: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const [command, first] = script.endsWith('.mjs')
    ? [process.execPath, script]
    : [`${ROOT}node_modules/.bin/tsx`, `${ROOT}${script}`];
  const child = spawn(command, [first, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  return { child, ready: JSON.parse(await firstLine(child)) as T };
}

export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const end = out.indexOf('\n');
      if (end >= 0) resolve(out.slice(0, end));
    });
    child.on('exit', (code) => reject(new Error(`exited ${code} before it was ready`)));
  });
}

export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.on('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function waitForHttp(url: string, body: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (r.ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** Resident set size of a process now, and its peak (VmHWM), in MB. */
export function rssMb(pid: number): { now: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { now: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Direct children of a process (uvicorn's workers under its master). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Whether Debian's Python has these modules. */
export function pythonHas(modules: readonly string[]): boolean {
  try {
    execFileSync(PYTHON, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** Latency of `n` sequential calls after a warm-up, in µs. */
export async function timeCalls(
  n: number,
  call: () => Promise<unknown>,
): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < Math.min(2000, n); i++) await call();
  const samples = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await call();
    samples[i] = (performance.now() - started) * 1000;
  }
  samples.sort();
  return {
    p50: samples[Math.floor(n / 2)] as number,
    p99: samples[Math.min(n - 1, Math.floor(n * 0.99))] as number,
  };
}

/** The REST proxy event API Gateway hands the api function for a predict request. */
export function predictEvent(model: string, instances: unknown[]): APIGatewayProxyEvent {
  return {
    resource: '/v1/models/{model}/predict',
    path: `/v1/models/${model}/predict`,
    httpMethod: 'POST',
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: { 'content-type': ['application/json'] },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { model },
    stageVariables: null,
    body: JSON.stringify({ instances }),
    isBase64Encoded: false,
    requestContext: { requestId: 'bench', resourcePath: '/v1/models/{model}/predict', httpMethod: 'POST' },
  } as unknown as APIGatewayProxyEvent;
}
