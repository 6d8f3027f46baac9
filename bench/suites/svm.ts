/** Benchmark `svm` (table row 11): the api handler's own time per single-row iris-svm call, in process, against session.run alone. */
import type { Lab } from '../lib/lab.ts';
import { type Row, ratioRow } from '../lib/report.ts';

/** 11: iris-svm (an SVMClassifier, which stays in onnxruntime): the handler against onnxruntime's bare session.run, alternating blocks. */
export async function svm(lab: Lab): Promise<Row[]> {
  const api = await lab.modelgate();
  return [
    ratioRow(
      {
        id: '11',
        measurement:
          'api handler, iris-svm single row, p50 (peer: onnxruntime session.run alone, same process, alternating)',
        ours: api.svm.handlerUs.p50,
        peer: api.svm.sessionRunUs.p50,
        unit: 'µs',
        digits: 1,
      },
      3,
      { atMost: true },
    ),
  ];
}
