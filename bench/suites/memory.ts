/** Benchmark `memory` (table row 6): the api server's resident memory after mixed requests. */
import { type ApiServer, startApiServer } from '../lib/bundle.ts';
import { type Lab, PEER_MISSING } from '../lib/lab.ts';
import { childPids, rssMb, stop } from '../lib/process.ts';
import { fmt, type Row, ratioRow } from '../lib/report.ts';
import { IRIS_ROW, LINEAR_ROW, predictBody } from '../lib/requests.ts';

/** 6: RSS after 10k mixed requests over all sample models, against one Python worker's. */
export async function memory(lab: Lab): Promise<Row[]> {
  // A fresh api server that has served nothing but these requests (no in-process timing loop first).
  const { child, ready: api } = await startApiServer(lab.s3, 0);
  try {
    return await measureMemory(lab, api);
  } finally {
    await stop(child);
  }
}

async function measureMemory(lab: Lab, api: ApiServer): Promise<Row[]> {
  const peer = await lab.peer();
  const n = lab.options.quick ? 200 : 10_000;
  const rows: Record<string, number[][]> = {
    iris: IRIS_ROW,
    'iris-logistic': [[5.9, 3.0, 4.2, 1.5]],
    linear: LINEAR_ROW,
    diabetes: [[0.038, 0.051, 0.062, 0.022, -0.044, -0.035, -0.043, -0.003, 0.02, -0.018]],
  };
  const models = Object.keys(rows);
  const requests = (base: string, headers: Record<string, string>, withV2: boolean) =>
    Array.from({ length: n }, (_, i) => {
      const model = models[i % models.length] as string;
      const instances = rows[model] as number[][];
      if (withV2 && i % 2 === 1) {
        return {
          url: `${base}/v2/models/${model}/infer`,
          headers,
          body: JSON.stringify({
            inputs: [
              { name: 'input', shape: [1, instances[0]?.length], datatype: 'FP32', data: instances.flat() },
            ],
          }),
        };
      }
      return { url: `${base}/v1/models/${model}/predict`, headers, body: predictBody(instances) };
    });
  await send(requests(api.url, { 'x-api-key': api.apiKey }, true));
  const ours = rssMb(api.pid).now;
  let theirs: number | undefined;
  if (peer) {
    await send(requests(peer.url, {}, false));
    theirs = Math.max(...childPids(peer.pid).map((pid) => rssMb(pid).now));
  }
  return [
    ratioRow(
      {
        id: '6',
        measurement: `RSS after ${fmt(n)} mixed requests, all sample models (peer: largest uvicorn worker)`,
        ours,
        peer: theirs,
        unit: 'MB',
      },
      1,
      { atMost: true, missing: PEER_MISSING },
    ),
  ];
}

/** The requests, 16 at a time, each answered 2xx or the run fails. */
async function send(requests: Array<{ url: string; headers: Record<string, string>; body: string }>) {
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const r = requests[next++] as (typeof requests)[number];
      const response = await fetch(r.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...r.headers },
        body: r.body,
      });
      if (!response.ok) throw new Error(`${r.url} answered ${response.status}: ${await response.text()}`);
      await response.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}
