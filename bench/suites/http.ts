/** Benchmark `http` (table rows 1, 2, 2b): single-row predicts over HTTP under load. */
import { type Lab, PEER_MISSING } from '../lib/lab.ts';
import { alternate, type Load, load } from '../lib/load.ts';
import { type Row, ratioRow } from '../lib/report.ts';
import { IRIS_ROW, LINEAR_ROW, predictBody } from '../lib/requests.ts';

/** 1, 2, 2b: single-row predict over HTTP, 32 connections, against the Python server and the bare-Node ceiling. */
export async function http(lab: Lab): Promise<Row[]> {
  const api = await lab.modelgate();
  const peer = await lab.peer();
  const round = lab.options.quick ? 1 : Math.max(1, lab.options.duration / 3);
  const key = { 'x-api-key': api.apiKey };
  const ours = (model: string, row: unknown) => () =>
    load(`${api.url}/v1/models/${model}/predict`, key, predictBody(row), lab, round);
  const theirs = (model: string, row: unknown) =>
    peer ? () => load(`${peer.url}/v1/models/${model}/predict`, {}, predictBody(row), lab, round) : undefined;
  const warm = async (run: (() => Promise<Load>) | undefined) => run && (await run());
  await warm(ours('iris', IRIS_ROW));
  await warm(theirs('iris', IRIS_ROW));

  const iris = await alternate(lab, ours('iris', IRIS_ROW), theirs('iris', IRIS_ROW));
  const linear = await alternate(lab, ours('linear', LINEAR_ROW), theirs('linear', LINEAR_ROW));
  const ceiling = await lab.ceiling();
  const bare = await alternate(lab, ours('iris', IRIS_ROW), () =>
    load(`${ceiling.url}/v1/models/iris/predict`, {}, predictBody(IRIS_ROW), lab, round),
  );
  const errors = iris.a.errors + linear.a.errors + bare.a.errors;
  if (errors > 0) throw new Error(`ModelGate answered ${errors} requests with errors under load`);
  const c = lab.options.connections;
  return [
    ratioRow(
      {
        id: '1',
        measurement: `HTTP predict, iris forest, ${c} connections: requests/s`,
        ours: iris.a.rps,
        peer: iris.b?.rps,
        unit: 'req/s',
      },
      15,
      { missing: PEER_MISSING },
    ),
    ratioRow(
      {
        id: '1',
        measurement: `HTTP predict, iris forest, ${c} connections: p99`,
        ours: iris.a.p99,
        peer: iris.b?.p99,
        unit: 'ms',
        digits: 1,
      },
      0.1,
      { atMost: true, missing: PEER_MISSING },
    ),
    ratioRow(
      {
        id: '2',
        measurement: `HTTP predict, linear, ${c} connections: requests/s`,
        ours: linear.a.rps,
        peer: linear.b?.rps,
        unit: 'req/s',
      },
      5,
      { missing: PEER_MISSING },
    ),
    {
      ...ratioRow(
        {
          id: '2b',
          measurement: 'HTTP predict, iris, against a bare Node server of the same answer (peer column)',
          ours: bare.a.rps,
          peer: bare.b?.rps,
          unit: 'req/s',
        },
        0.4,
      ),
    },
  ];
}
