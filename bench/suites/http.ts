/**
 * Benchmark `http` (table rows 1, 2, 2b, 2c): single-row predicts over HTTP under load,
 * against the Python peer in both styles, the Node peer and the bare-Node ceiling.
 */
import { type Lab, PEER_FAST_PARTS, PEER_MISSING } from '../lib/lab.ts';
import { alternate, LOAD_TOOL, type Load, load } from '../lib/load.ts';
import { pythonHas } from '../lib/process.ts';
import { type Row, ratioRow } from '../lib/report.ts';
import { IRIS_ROW, LINEAR_ROW, predictBody } from '../lib/requests.ts';

/**
 * 1, 2, 2b, 2c: single-row predict over HTTP, 32 connections, every system in alternating rounds.
 * The Node peer runs in two styles: as written in an afternoon, and with the gateway's staging
 * (its answers written in the next check phase), so the ratio is also given against the peer
 * doing what makes ModelGate fast.
 */
export async function http(lab: Lab): Promise<Row[]> {
  const api = await lab.modelgate();
  const fast = await lab.peer('async');
  const tutorial = await lab.peer('def');
  const node = await lab.nodePeer();
  const stagedNode = await lab.nodePeer('staged');
  const ceiling = await lab.ceiling();
  const round = lab.options.quick ? 1 : Math.max(1, lab.options.duration / 3);
  const post =
    (url: string, headers: Record<string, string>, row: unknown): (() => Promise<Load>) =>
    () =>
      load(url, headers, predictBody(row), lab, round);
  const ours = (model: string, row: unknown) =>
    post(`${api.url}/v1/models/${model}/predict`, { 'x-api-key': api.apiKey }, row);
  const peer = (server: { url: string } | undefined, model: string, row: unknown) =>
    server ? post(`${server.url}/v1/models/${model}/predict`, {}, row) : undefined;

  const iris = {
    modelgate: ours('iris', IRIS_ROW),
    fast: peer(fast, 'iris', IRIS_ROW),
    tutorial: peer(tutorial, 'iris', IRIS_ROW),
    node: peer(node, 'iris', IRIS_ROW),
    stagedNode: peer(stagedNode, 'iris', IRIS_ROW),
    bare: post(`${ceiling.url}/v1/models/iris/predict`, {}, IRIS_ROW),
  };
  for (const warm of Object.values(iris)) await warm?.();
  const i = await alternate(lab, iris);
  const l = await alternate(lab, {
    modelgate: ours('linear', LINEAR_ROW),
    fast: peer(fast, 'linear', LINEAR_ROW),
  });
  const errors = (i.modelgate?.errors ?? 0) + (l.modelgate?.errors ?? 0);
  if (errors > 0) throw new Error(`ModelGate answered ${errors} requests with errors under load`);
  for (const [name, result] of Object.entries({ ...i, linear: l.fast })) {
    if ((result?.errors ?? 0) > 0)
      throw new Error(`peer ${name} answered ${result?.errors} requests with errors`);
  }

  const c = `${lab.options.connections} connections, ${LOAD_TOOL}`;
  const uvloop = pythonHas(PEER_FAST_PARTS)
    ? 'uvloop'
    : 'asyncio: apt install python3-uvloop python3-httptools';
  // The targets are against the faster of the two Python styles in this run.
  const [best, other] =
    (i.tutorial?.rps ?? 0) > (i.fast?.rps ?? 0)
      ? [
          { load: i.tutorial, name: 'def + pydantic' },
          { load: i.fast, name: `async def, ${uvloop}` },
        ]
      : [
          { load: i.fast, name: `async def, ${uvloop}` },
          { load: i.tutorial, name: 'def + pydantic' },
        ];
  const rps = (
    id: string,
    measurement: string,
    ours: Load | undefined,
    peer: Load | undefined,
    bound: number,
  ) =>
    ratioRow({ id, measurement, ours: ours?.rps ?? 0, peer: peer?.rps, unit: 'req/s' }, bound, {
      missing: PEER_MISSING,
    });
  return [
    rps(
      '1',
      `HTTP predict, iris forest, ${c}: requests/s (peer: fastest Python, FastAPI ${best.name})`,
      i.modelgate,
      best.load,
      15,
    ),
    ratioRow(
      {
        id: '1',
        measurement: `HTTP predict, iris forest, ${c}: p99 (peer: FastAPI ${best.name})`,
        ours: i.modelgate?.p99 ?? 0,
        peer: best.load?.p99,
        unit: 'ms',
        digits: 1,
      },
      0.1,
      { atMost: true, missing: PEER_MISSING },
    ),
    rps(
      '1',
      `HTTP predict, iris forest, ${c}: requests/s (peer: FastAPI ${other.name})`,
      i.modelgate,
      other.load,
      15,
    ),
    rps(
      '2',
      `HTTP predict, linear, ${c}: requests/s (peer: FastAPI async def, ${uvloop})`,
      l.modelgate,
      l.fast,
      5,
    ),
    rps(
      '2b',
      'HTTP predict, iris, against a bare node:http server of the same answer (peer column)',
      i.modelgate,
      i.bare,
      0.25,
    ),
    rps(
      '2c',
      'HTTP predict, iris, against node:http + onnxruntime-node, no keys, no metrics (peer column)',
      i.modelgate,
      i.node,
      0.8,
    ),
    rps(
      '2c',
      'HTTP predict, iris, against the same Node peer writing its answers a turn later, as the gateway does (peer column)',
      i.modelgate,
      i.stagedNode,
      0.8,
    ),
  ];
}
