/** Benchmark `cnn` (table row 9): digits-cnn single-image predict over HTTP against FastAPI + uvicorn + PyTorch. */
import { type Lab, TORCH_MISSING } from '../lib/lab.ts';
import { alternate, type Load, load } from '../lib/load.ts';
import { type Row, ratioRow } from '../lib/report.ts';
import { DIGIT_IMAGE, predictBody } from '../lib/requests.ts';

/** 9: one 8×8 image per request, under load, ModelGate and the PyTorch server alternating. */
export async function cnn(lab: Lab): Promise<Row[]> {
  const api = await lab.modelgate();
  const peer = await lab.torchPeer();
  const round = lab.options.quick ? 1 : Math.max(1, lab.options.duration / 3);
  const body = predictBody([DIGIT_IMAGE]);
  const ours = () =>
    load(`${api.url}/v1/models/digits-cnn/predict`, { 'x-api-key': api.apiKey }, body, lab, round);
  const theirs = peer
    ? () => load(`${peer.url}/v1/models/digits-cnn/predict`, {}, body, lab, round)
    : undefined;
  const warm = async (run: (() => Promise<Load>) | undefined) => run && (await run());
  await warm(ours);
  await warm(theirs);
  const result = await alternate(lab, { modelgate: ours, peer: theirs });
  const a = result.modelgate as Load;
  const b = result.peer;
  if (a.errors > 0) throw new Error(`ModelGate answered ${a.errors} requests with errors under load`);
  const c = lab.options.connections;
  return [
    ratioRow(
      {
        id: '9',
        measurement: `HTTP predict, digits-cnn (one 8×8 image), ${c} connections: requests/s (peer: FastAPI + uvicorn + PyTorch, 2 workers)`,
        ours: a.rps,
        peer: b?.rps,
        unit: 'req/s',
      },
      10,
      { missing: TORCH_MISSING },
    ),
    ratioRow(
      {
        id: '9',
        measurement: `HTTP predict, digits-cnn (one 8×8 image), ${c} connections: p99`,
        ours: a.p99,
        peer: b?.p99,
        unit: 'ms',
        digits: 1,
      },
      0.2,
      { atMost: true, missing: TORCH_MISSING },
    ),
  ];
}
