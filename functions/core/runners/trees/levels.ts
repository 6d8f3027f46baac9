/**
 * A tree walked level by level from arrays without branches: the layout of shallow, nearly complete
 * trees (boosting's fixed depth).
 */
import { COMPARISONS, type Ensemble, type Tree, type TreeNode } from './ensemble.ts';
import { literal } from './literal.ts';

/** Trees up to this depth, and this many padded entries in all, run level by level. */
const MAX_LEVELS = 10;
const MAX_PADDED = 4_000_000;

/**
 * Whether the trees run level by level: shallow, nearly complete trees of one comparison and no
 * missing-value tracks. Deep, lopsided ones (forests) run as nests of ifs, where most rows stop early.
 */
export function fitsLevels(ensemble: Ensemble): boolean {
  const { trees, width, nodeCount } = ensemble;
  const inner = trees.flatMap((tree) => [...tree.nodes.values()].filter((n) => n.mode !== 'LEAF'));
  const modesUsed = new Set(inner.map((n) => n.mode));
  const paddedSize = trees.reduce((sum, tree) => sum + 2 ** tree.depth * (2 + width), 0);
  const paddedNodes = trees.reduce((sum, tree) => sum + 2 ** (tree.depth + 1) - 1, 0);
  return (
    modesUsed.size <= 1 &&
    !inner.some((n) => n.missingTrue) &&
    Math.max(...trees.map((tree) => tree.depth)) <= MAX_LEVELS &&
    paddedNodes <= 2 * nodeCount &&
    paddedSize <= MAX_PADDED
  );
}

/**
 * The tree padded to a complete one of its depth, as arrays (each inner node's split feature and
 * threshold, each last-level leaf's weights by output) walked level by level: node k's children
 * are 2k+1 (the comparison holds) and 2k+2. A leaf above the last level is copied into every leaf
 * below it. Four rows go down at once, the comparison's result added to the index instead of
 * branched on: no branch to mispredict, four independent chains of loads.
 *
 * `constants` declares the arrays; `source` is `function t<index>(x, n, s)`, adding the tree's leaf
 * weights for each of the `n` rows of `x` (`features` apart) into the scores `s` (`width` apart).
 */
export function levelsSource(
  tree: Tree,
  index: number,
  features: number,
  width: number,
): { constants: string; source: string } {
  const { depth } = tree;
  const inner = 2 ** depth - 1;
  const splitFeatures = new Array<number>(inner).fill(0);
  const splitThresholds = new Array<number>(inner).fill(Number.POSITIVE_INFINITY);
  const leafWeights = new Array<number>((inner + 1) * width).fill(0);
  let op = '<=';
  const fill = (id: number, k: number, level: number): void => {
    const n = tree.nodes.get(id) as TreeNode;
    if (n.mode === 'LEAF') {
      if (level === depth) for (const [c, w] of n.weights) leafWeights[(k - inner) * width + c] = w;
      else {
        fill(id, 2 * k + 1, level + 1);
        fill(id, 2 * k + 2, level + 1);
      }
      return;
    }
    op = COMPARISONS.get(n.mode) as string;
    splitFeatures[k] = n.feature;
    splitThresholds[k] = n.threshold;
    fill(n.yes, 2 * k + 1, level + 1);
    fill(n.no, 2 * k + 2, level + 1);
  };
  fill(tree.root, 0, 0);
  // The arrays' names in the generated source.
  const featuresName = `splitFeatures${index}`;
  const thresholdsName = `splitThresholds${index}`;
  const weightsName = `leafWeights${index}`;
  const constants = `  const ${featuresName} = new Int32Array([${splitFeatures.join(',')}]), ${thresholdsName} = new Float64Array([${splitThresholds.map(literal).join(',')}]), ${weightsName} = new Float64Array([${leafWeights.map(literal).join(',')}]);`;
  const rows = (count: number) => {
    const lines: string[] = [];
    for (let q = 0; q < count; q++) lines.push(`let k${q} = 0;`);
    for (let level = 0; level < depth; level++) {
      for (let q = 0; q < count; q++) {
        lines.push(
          `k${q} = 2 * k${q} + 2 - (x[o + ${q * features} + ${featuresName}[k${q}]] ${op} ${thresholdsName}[k${q}]);`,
        );
      }
    }
    for (let q = 0; q < count; q++) {
      lines.push(`k${q} = (k${q} - ${inner}) * ${width};`);
      if (width <= 8) {
        for (let c = 0; c < width; c++) {
          lines.push(`s[r + ${q * width + c}] += ${weightsName}[k${q} + ${c}];`);
        }
      } else {
        lines.push(
          `for (let c = 0; c < ${width}; c++) s[r + ${q * width} + c] += ${weightsName}[k${q} + c];`,
        );
      }
    }
    return lines.map((l) => `      ${l}`).join('\n');
  };
  const source = `function t${index}(x, n, s) {
    let i = 0, o = 0, r = 0;
    for (; i + 4 <= n; i += 4, o += ${4 * features}, r += ${4 * width}) {
${rows(4)}
    }
    for (; i < n; i++, o += ${features}, r += ${width}) {
${rows(1)}
    }
  }`;
  return { constants, source };
}
