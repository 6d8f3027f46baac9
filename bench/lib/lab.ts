/**
 * The servers the benchmarks share (ModelGate's api server, the Python peer, the bare-Node
 * ceiling), started on first use and stopped at the end, and the options of a run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '../../local/net.ts';
import { type ApiServer, startApiServer } from './bundle.ts';
import { PYTHON, pythonHas, ROOT, startChild, stop, waitForHttp } from './process.ts';
import { DIGIT_IMAGE, IRIS_ROW, predictBody } from './requests.ts';

export interface BenchOptions {
  /** Seconds of load per system per HTTP comparison, split over alternating rounds. */
  readonly duration: number;
  readonly connections: number;
  /** Tiny sizes everywhere: checks the harness, measures nothing worth keeping. */
  readonly quick: boolean;
}

/** What to install when the Python peer cannot run. */
export const PEER_MISSING = 'apt install python3-fastapi python3-uvicorn python3-sklearn';
/** What to install when the PyTorch peers cannot run. */
export const TORCH_MISSING =
  'apt install python3-fastapi python3-uvicorn python3-torch python3-onnx python3-pandas';

/** What the fastest Python peer runs on when installed (uvicorn falls back to asyncio and h11). */
export const PEER_FAST_PARTS = ['uvloop', 'httptools'] as const;

/** The Node peer's two styles (bench/peers/onnx_node.mjs): each answer written at once, or a turn later. */
export type NodePeerStyle = 'plain' | 'staged';

/** The Python peer's two handler styles (bench/peers/sklearn_fastapi.py). */
export type PeerStyle = 'async' | 'def';

/**
 * What the benchmarks share, started on first use and stopped at the end:
 * the model bucket (s3rver, in this process), ModelGate's api server (gateway
 * emulator + api handler, a child), the Python peer in each style (two uvicorn
 * workers), the PyTorch peer, the Node peer (node:http + onnxruntime-node), the bare-Node ceiling.
 */
export class Lab {
  private readonly children: ChildProcess[] = [];
  private api?: Promise<ApiServer>;
  private readonly peers = new Map<PeerStyle, Promise<{ url: string; pid: number } | undefined>>();
  private readonly nodePeers = new Map<NodePeerStyle, Promise<{ url: string; pid: number }>>();
  private torchUrl?: Promise<{ url: string; pid: number } | undefined>;
  private ceilingUrl?: Promise<{ url: string; pid: number }>;

  constructor(
    readonly options: BenchOptions,
    readonly s3: { url: string; bucket: string },
  ) {}

  /**
   * The api server as a deployed function runs: bundled by esbuild (as the
   * stack bundles it), in plain node, not through tsx's loader.
   */
  modelgate(): Promise<ApiServer> {
    this.api ??= startApiServer(this.s3, this.options.quick ? 500 : 20_000).then(({ child, ready }) => {
      this.children.push(child);
      return ready;
    });
    return this.api;
  }

  /**
   * FastAPI + uvicorn + scikit-learn, one worker per core, `async` (the fast
   * style, the default) or `def`; undefined when Debian's packages are missing.
   */
  peer(style: PeerStyle = 'async'): Promise<{ url: string; pid: number } | undefined> {
    return startOnce(this.peers, style, async () => {
      if (!pythonHas(['fastapi', 'uvicorn', 'sklearn'])) return undefined;
      const port = await freePort();
      const child = spawn(PYTHON, [`${ROOT}bench/peers/sklearn_fastapi.py`, String(port), '2', style], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      this.children.push(child);
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/v1/models/iris/predict`, predictBody(IRIS_ROW));
      return { url, pid: child.pid as number };
    });
  }

  /** node:http + onnxruntime-node, one session per model, no keys, no metrics (bench/peers/onnx_node.mjs). */
  nodePeer(style: NodePeerStyle = 'plain'): Promise<{ url: string; pid: number }> {
    return startOnce(this.nodePeers, style, () =>
      startChild<{ url: string; pid: number }>(`${ROOT}bench/peers/onnx_node.mjs`, [style]).then(
        ({ child, ready }) => {
          this.children.push(child);
          return ready;
        },
      ),
    );
  }

  /** FastAPI + uvicorn + PyTorch serving digits-cnn, two workers; undefined when Debian's packages are missing. */
  torchPeer(): Promise<{ url: string; pid: number } | undefined> {
    this.torchUrl ??= (async () => {
      if (!pythonHas(['fastapi', 'uvicorn', 'torch', 'onnx'])) return undefined;
      const port = await freePort();
      const child = spawn(PYTHON, [`${ROOT}bench/peers/torch_digits.py`, 'serve', String(port), '2'], {
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      this.children.push(child);
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(`${url}/v1/models/digits-cnn/predict`, predictBody([DIGIT_IMAGE]));
      return { url, pid: child.pid as number };
    })();
    return this.torchUrl;
  }

  /** A bare Node `http` server answering a fixed body the size of ModelGate's iris answer. */
  ceiling(): Promise<{ url: string; pid: number }> {
    this.ceilingUrl ??= (async () => {
      const api = await this.modelgate();
      const answer = await fetch(`${api.url}/v1/models/iris/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': api.apiKey },
        body: predictBody(IRIS_ROW),
      }).then((r) => r.text());
      const { child, ready } = await startChild<{ url: string; pid: number }>('bench/servers/ceiling.ts', [
        String(Buffer.byteLength(answer)),
      ]);
      this.children.push(child);
      return ready;
    })();
    return this.ceilingUrl;
  }

  async close(): Promise<void> {
    await Promise.all(this.children.map(stop));
  }
}

/** The server of `key` in `servers`, started by `start` on first use. */
function startOnce<K, V>(servers: Map<K, V>, key: K, start: () => V): V {
  let started = servers.get(key);
  if (started === undefined) {
    started = start();
    servers.set(key, started);
  }
  return started;
}
