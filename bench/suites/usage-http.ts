/**
 * The HTTP half of benchmark `usage`: single-row iris predicts through the whole local topology
 * with usage accounting on (the DynamoDB emulator, as `npm start` runs it) and off (no usage table).
 */

import { readUsage } from '../../functions/core/usage/report.ts';
import { API_NODE_OPTIONS } from '../../infra/function-env.ts';
import { localDynamoClient } from '../../local/dynamodb.ts';
import { startTopology } from '../lib/bundle.ts';
import type { Lab } from '../lib/lab.ts';
import { LOAD_TOOL, type Load, load } from '../lib/load.ts';
import { median, stop } from '../lib/process.ts';
import { fmt, type Row, ratioRow } from '../lib/report.ts';
import { IRIS_ROW, predictBody } from '../lib/requests.ts';

interface Topology {
  apiUrl: string;
  apiKey: string;
  dynamoUrl: string;
  usageTable: string;
}

/** Requests the usage table of `topology` holds for today, every key and model. */
async function recorded(topology: Topology): Promise<number> {
  const client = localDynamoClient(topology.dynamoUrl);
  try {
    const today = new Date().toISOString().slice(0, 10);
    return (await readUsage(client, topology.usageTable, { from: today, to: today })).totals.requests;
  } finally {
    client.destroy();
  }
}

/** What the table holds once its writes stop moving (they go out after the answers). */
async function settled(topology: Topology): Promise<number> {
  let last = -1;
  let now = await recorded(topology);
  while (now !== last) {
    last = now;
    await new Promise((r) => setTimeout(r, 200));
    now = await recorded(topology);
  }
  return now;
}

/**
 * 13: requests/s of single-row iris predicts over HTTP with usage accounting on against off,
 * two topologies (one process each, the api function's V8 flags) loaded in alternating rounds
 * (on off, off on, …), medians of the rounds, 2xx only.
 */
export async function usageHttp(lab: Lab): Promise<Row> {
  const started: Array<Awaited<ReturnType<typeof startTopology<Topology>>>> = [];
  const topology = async (usage: 'on' | 'off') => {
    const run = await startTopology<Topology>({
      NODE_OPTIONS: API_NODE_OPTIONS.join(' '),
      MODELGATE_BENCH_USAGE: usage,
      // The demo language model is not what is measured: its container stays off on both sides.
      MODELGATE_BENCH_LANGUAGE_MODELS: 'off',
    });
    started.push(run);
    return run.ready;
  };
  try {
    const on = await topology('on');
    const off = await topology('off');
    const rounds = lab.options.quick ? 1 : 6;
    const seconds = lab.options.quick ? 1 : Math.max(1, lab.options.duration / rounds);
    const predict = (t: Topology) => () =>
      load(
        `${t.apiUrl}/v1/models/iris/predict`,
        { 'x-api-key': t.apiKey },
        predictBody(IRIS_ROW),
        lab,
        seconds,
      );
    const sides = { on: predict(on), off: predict(off) };
    const runs = { on: [] as Load[], off: [] as Load[] };
    for (const warm of Object.values(sides)) await warm();
    // Alternating, the order swapped every round: a noisy neighbour or drift hits both sides alike.
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
      for (const side of order) runs[side].push(await sides[side]());
    }
    for (const side of ['on', 'off'] as const) {
      const errors = runs[side].reduce((sum, l) => sum + l.errors, 0);
      if (errors > 0) throw new Error(`ModelGate with usage ${side} answered ${errors} requests with errors`);
    }
    const counted = await settled(on);
    const uncounted = await recorded(off);
    if (counted === 0) throw new Error('usage accounting was on, yet the usage table recorded no request');
    if (uncounted > 0) throw new Error(`usage accounting was off, yet ${uncounted} requests were recorded`);
    return ratioRow(
      {
        id: '13',
        measurement: `usage accounting over HTTP: requests/s with it on (peer column: off), iris single row, whole local topology, ${lab.options.connections} connections, ${LOAD_TOOL}, ${rounds} alternating rounds of ${fmt(seconds, 1)} s (${fmt(counted)} requests recorded)`,
        ours: median(runs.on.map((l) => l.rps)),
        peer: median(runs.off.map((l) => l.rps)),
        unit: 'req/s',
      },
      0.97,
    );
  } finally {
    await Promise.all(started.map((s) => stop(s.child)));
  }
}
