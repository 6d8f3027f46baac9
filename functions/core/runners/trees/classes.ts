/**
 * Classifier ensembles: which class layouts the compiler covers (onnxruntime's binary and multi-class
 * rules, base values, LOGISTIC and SOFTMAX post transforms), and the source that turns summed scores
 * into labels and probabilities as onnxruntime's TreeEnsembleClassifier does.
 */
import { allLeaves, decline, type Ensemble, type TreeNode } from './ensemble.ts';
import { literal } from './literal.ts';

/**
 * Declines the class layouts whose answers the compiled program would not reproduce:
 * - two labels: only the exporters' binary layout (every weight on the first class, at most one
 *   base value); onnxruntime then picks the label from that one score;
 * - three or more: without base values, class weights not all above 0 need every class weighed
 *   by some tree on every leaf (onnxruntime skips classes no leaf weighed when it picks the label).
 */
export function checkClasses(
  trees: ReadonlyArray<{ nodes: Map<number, TreeNode> }>,
  width: number,
  base: readonly number[],
  allAboveZero: boolean,
): void {
  if (width === 2) {
    if (trees.some((t) => !allLeaves(t.nodes, (n) => !n.weights.has(1)))) {
      decline('a binary classifier with weights on its second class');
    }
    if (base.length > 1) decline('a binary classifier with two base values');
    return;
  }
  if (base.length !== 0 && base.length !== width) decline('base values of another length');
  if (base.length === 0 && !allAboveZero) {
    const weighed = (k: number) => trees.some((t) => allLeaves(t.nodes, (n) => n.weights.has(k)));
    if (!Array.from({ length: width }, (_, k) => k).every(weighed)) {
      decline('class weights not all above 0, no base values, and a class some rows may not weigh');
    }
  }
}

/**
 * onnxruntime's ComputeLogistic in float32 (each operation rounded as a C++ float operation is),
 * `Math.exp` standing in for the C library's expf.
 */
const LOGISTIC = `    const f = Math.fround;
    function logistic(x) {
      const v = f(1 / f(1 + f(Math.exp(-Math.abs(x)))));
      return x < 0 ? f(1 - v) : v;
    }`;

/** onnxruntime's ComputeSoftmax over the `width` scores of one row at `r`, in float32. */
const softmax = (width: number) => `    let max = -3.4028234663852886e38;
    for (let k = 0; k < ${width}; k++) if (s[r + k] > max) max = s[r + k];
    let sum = 0;
    for (let k = 0; k < ${width}; k++) {
      const e = Math.fround(Math.exp(Math.fround(s[r + k] - max)));
      s[r + k] = e;
      sum = Math.fround(sum + e);
    }
    for (let k = 0; k < ${width}; k++) s[r + k] = s[r + k] / sum;`;

/** The end of `score` for a classifier: base values added, each row's label picked, the scores transformed. */
export function classifierFinish(
  ensemble: Pick<Ensemble, 'width' | 'base' | 'labels' | 'transform' | 'positive'>,
): string {
  const { width, labels, transform } = ensemble;
  const body = width === 2 ? binaryRow(ensemble) : multiClassRow(ensemble);
  return `  const labels = [${labels.map((l) => `${l}n`).join(', ')}];
  const label = new BigInt64Array(n);
${transform === 'LOGISTIC' ? LOGISTIC : ''}
  for (let i = 0, r = 0; i < n; i++, r += ${width}) {
${body}
  }
  return [
    { type: 'int64', dims: [n], data: label },
    { type: 'float32', dims: [n, ${width}], data: s },
  ];`;
}

/**
 * A binary row as onnxruntime 1.30 answers it from the first class's score `v` (base value added):
 * weights all at or above 0 give the second label when v > 0.5, others when v > 0; the scores are
 * [logistic(-v), logistic(v)] under LOGISTIC, else [1 - v, v] (weights all at or above 0) or [-v, v].
 */
function binaryRow({ base, positive, transform }: Pick<Ensemble, 'base' | 'positive' | 'transform'>): string {
  const b = base[0] ?? 0;
  const v = `    const v = ${Object.is(b, 0) ? 's[r]' : `Math.fround(s[r] + ${literal(Math.fround(b))})`};`;
  const label = `    label[i] = labels[v > ${positive ? '0.5' : '0'} ? 1 : 0];`;
  const first = transform === 'LOGISTIC' ? 'logistic(-v)' : positive ? '1 - v' : '-v';
  const second = transform === 'LOGISTIC' ? 'logistic(v)' : 'v';
  return `${v}\n${label}\n    s[r] = ${first};\n    s[r + 1] = ${second};`;
}

/** A row of three or more classes: base values added, the first class of the highest score, then the transform. */
function multiClassRow({ width, base, transform }: Pick<Ensemble, 'width' | 'base' | 'transform'>): string {
  // A class no leaf of the row weighs takes the base value as it is; one weighed to 0 gives the same.
  const adds = base
    .map((b, k) =>
      Object.is(b, 0)
        ? ''
        : `    s[r + ${k}] = s[r + ${k}] === 0 ? ${literal(Math.fround(b))} : s[r + ${k}] + ${literal(Math.fround(b))};`,
    )
    .filter(Boolean);
  const pick = `    let best = 0;
    for (let k = 1; k < ${width}; k++) if (s[r + k] > s[r + best]) best = k;
    label[i] = labels[best];`;
  const transformed =
    transform === 'LOGISTIC'
      ? `    for (let k = 0; k < ${width}; k++) s[r + k] = logistic(s[r + k]);`
      : transform === 'SOFTMAX'
        ? softmax(width)
        : '';
  return [...adds, pick, transformed].filter(Boolean).join('\n');
}
