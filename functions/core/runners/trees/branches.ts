/**
 * A tree as a nest of `if`s with its thresholds as literals: the layout of deep, lopsided trees
 * (forests), where most rows stop early.
 */
import { COMPARISONS, type Tree, type TreeNode } from './ensemble.ts';
import { literal } from './literal.ts';

/**
 * Source of `function t<index>(x, n, s)`: adds the tree's leaf weights for each of the `n` rows of
 * `x` (`features` apart) into the scores `s` (`width` apart).
 */
export function branchesSource(tree: Tree, index: number, features: number, width: number): string {
  // Every node is there and the tree ends (the ensemble's reader checked both).
  const body = (id: number, indent: string): string => {
    const n = tree.nodes.get(id) as TreeNode;
    if (n.mode === 'LEAF') {
      return [...n.weights]
        .sort((a, b) => a[0] - b[0])
        .map(([k, w]) => `${indent}s[r${k === 0 ? '' : ` + ${k}`}] += ${literal(w)};`)
        .join('\n');
    }
    const v = `x[o + ${n.feature}]`;
    const test = `${v} ${COMPARISONS.get(n.mode)} ${literal(n.threshold)}${n.missingTrue ? ` || ${v} !== ${v}` : ''}`;
    return `${indent}if (${test}) {\n${body(n.yes, `${indent}  `)}\n${indent}} else {\n${body(n.no, `${indent}  `)}\n${indent}}`;
  };
  return `function t${index}(x, n, s) {
    for (let i = 0, o = 0, r = 0; i < n; i++, o += ${features}, r += ${width}) {
${body(tree.root, '      ')}
    }
  }`;
}
