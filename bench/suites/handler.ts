/** Benchmark `handler` (table row 3): the api handler's own time per single-row call, in process. */
import { execFileSync } from 'node:child_process';
import type { Lab } from '../lib/lab.ts';
import { PYTHON, pythonHas } from '../lib/process.ts';
import { type Row, ratioRow } from '../lib/report.ts';

/** 3: the api handler in process (event in, response out) against onnxruntime's bare session.run and scikit-learn's predict. */
export async function handler(lab: Lab): Promise<Row[]> {
  const api = await lab.modelgate();
  const sklearn = sklearnSingleRow(lab.options.quick ? 100 : 2000);
  return [
    ratioRow(
      {
        id: '3',
        measurement:
          'api handler, single row, p50 (peer: onnxruntime session.run alone, same process, alternating)',
        ours: api.handlerUs.p50,
        peer: api.sessionRunUs.p50,
        unit: 'µs',
        digits: 1,
      },
      3,
      { atMost: true },
    ),
    ratioRow(
      {
        id: '3',
        measurement: 'api handler, single row, p50 (peer: scikit-learn predict_proba)',
        ours: api.handlerUs.p50,
        peer: sklearn,
        unit: 'µs',
        digits: 1,
      },
      0.5,
      { atMost: true, missing: 'apt install python3-sklearn' },
    ),
  ];
}

/** scikit-learn's median µs for one iris row through a 100-tree forest's predict_proba; undefined without it. */
function sklearnSingleRow(n: number): number | undefined {
  if (!pythonHas(['sklearn'])) return undefined;
  const script = `
import time, numpy as np
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
d = load_iris(); x = d.data.astype(np.float32)
m = RandomForestClassifier(n_estimators=100, random_state=0).fit(x, d.target)
row = np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32)
for _ in range(50): m.predict_proba(row)
s = []
for _ in range(${n}):
    t = time.perf_counter(); m.predict_proba(row); s.append((time.perf_counter() - t) * 1e6)
s.sort(); print(s[len(s) // 2])`;
  return Number(execFileSync(PYTHON, ['-c', script], { encoding: 'utf8' }).trim());
}
