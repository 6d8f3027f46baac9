/**
 * Local SageMaker containers: a process on a free port, health-checked with `/ping` and restarted when it
 * dies; and the demo language model run that way.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { freePort } from '../net.ts';
import type { DemoLmMode } from './demo-lm/server.ts';

export interface ContainerSpec {
  readonly name: string;
  /** Executable and arguments; the container gets its port in SAGEMAKER_BIND_TO_PORT. */
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory of the process. */
  readonly cwd?: string;
  /** How long the first `/ping` may take to answer 200 (SageMaker: ContainerStartupHealthCheckTimeoutInSeconds). */
  readonly startupTimeoutMs?: number;
  /** Told of starts, exits and restarts. */
  readonly onEvent?: (event: string) => void;
}

/** Answers whether `GET /ping` returns 200 within 2 s, as SageMaker's health check asks. */
export function ping(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/ping`, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

/**
 * A local process that follows the SageMaker container contract: started,
 * health-checked with `/ping` before it gets traffic, restarted (with backoff)
 * if it dies.
 */
export class Container {
  private child: ChildProcess | undefined;
  private ready = false;
  private stopping = false;
  private restarts = 0;
  url = '';

  constructor(private readonly spec: ContainerSpec) {}

  healthy = (): boolean => this.ready;

  get restartCount(): number {
    return this.restarts;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    await this.launch(port);
  }

  private async launch(port: number): Promise<void> {
    this.ready = false;
    const child = spawn(this.spec.command, [...this.spec.args], {
      env: { ...process.env, ...this.spec.env, SAGEMAKER_BIND_TO_PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(this.spec.cwd && { cwd: this.spec.cwd }),
    });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-2000);
    });
    child.on('exit', (code, signal) => {
      this.ready = false;
      if (this.stopping || this.child !== child) return;
      this.restarts++;
      const delay = Math.min(10_000, 250 * 2 ** Math.min(this.restarts, 6));
      this.spec.onEvent?.(`${this.spec.name} exited (${signal ?? code}); restarting in ${delay} ms`);
      setTimeout(() => {
        if (!this.stopping)
          this.launch(port).catch((error) => this.spec.onEvent?.(`${this.spec.name}: ${error.message}`));
      }, delay).unref();
    });
    const deadline = Date.now() + (this.spec.startupTimeoutMs ?? 60_000);
    while (Date.now() < deadline) {
      if (child.exitCode !== null)
        throw new Error(`${this.spec.name} exited while starting: ${stderr.trim()}`);
      if (await ping(this.url)) {
        this.ready = true;
        this.spec.onEvent?.(`${this.spec.name} healthy at ${this.url}`);
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    throw new Error(
      `${this.spec.name} did not answer /ping within ${this.spec.startupTimeoutMs ?? 60_000} ms`,
    );
  }

  /** Waits until the container is healthy again (after a restart), or throws at the deadline. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ready) {
      if (Date.now() > deadline) throw new Error(`${this.spec.name} not healthy within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.ready = false;
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
    });
  }
}

/** The demo language model container, as `npm start` runs it, speaking the protocol of `mode`. */
export function demoLmContainer(
  name: string,
  onEvent?: (event: string) => void,
  mode: DemoLmMode = 'tgi',
  env: Readonly<Record<string, string>> = {},
): Container {
  const root = new URL('../../', import.meta.url).pathname;
  // node itself, not the tsx wrapper: the pid is then the server's, and a kill reaches it.
  return new Container({
    name,
    command: process.execPath,
    cwd: root,
    args: ['--import', 'tsx', `${root}local/containers/demo-lm/server.ts`, 'serve'],
    env: {
      SM_MODEL_DIR: `${root}models/llm/demo-lm`,
      MODEL_ID: name,
      DEMO_LM_MODE: mode,
      ...env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    startupTimeoutMs: 60_000,
    ...(onEvent && { onEvent }),
  });
}
