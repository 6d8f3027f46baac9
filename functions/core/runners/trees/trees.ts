import { type OnnxAttribute, type OnnxNode, readOnnxGraph } from './onnx-graph.ts';

/**
 * Tree ensembles compiled to JavaScript, as Treelite and m2cgen compile them
 * to C: one function per tree, looping over a block of rows. Deep, lopsided
 * trees (forests) become nests of `if`s with the thresholds as literals;
 * shallow, nearly complete ones (boosting) are walked level by level from
 * arrays without branches (`levelsSource`). A 100-tree forest then costs a
 * few microseconds a row, and a million rows through 100 boosted trees of
 * depth 3 about 0.6 s, against onnxruntime's 11–19 µs and 1.6–2.0 s.
 *
 * The program reproduces onnxruntime's arithmetic exactly: float32 inputs
 * compared with float32 thresholds, leaf weights added in float32 in tree
 * order (a Float32Array store rounds as a C++ float add does), base values
 * added last. What it does not cover is declined with a reason, and the model
 * runs in onnxruntime: other post transforms, binary classifiers, negative or
 * missing class weights, tensor-valued attributes, graphs of more than the
 * one node. `OnnxRuntime` also checks every program against onnxruntime on
 * probe rows before using it (see `probeRows`).
 */
export interface TreeProgram {
  /** The graph's input: float32 [N, features]. */
  readonly input: string;
  readonly features: number;
  /** The names of the tensors the program returns, in order. */
  readonly outputs: readonly string[];
  /**
   * Source of a function `(input, outputs, features) => run`, `run` taking
   * and returning tensors as onnxruntime's session does (see `treeRun`).
   * Only numbers of the model reach the source, never its strings: names
   * come in as the arguments.
   */
  readonly source: string;
  /** Every threshold per feature: probe rows are built around them. */
  readonly thresholds: readonly number[][];
  /** How the trees run: level by level without branches (shallow trees), or as nests of `if`s. */
  readonly layout: 'levels' | 'branches';
}

/** onnxruntime's tensor shape of results, which the program takes and returns. */
export interface TreeTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}

/** Runs a program as onnxruntime runs a session: feeds by input name, the fetched outputs by name. */
export type TreeRun = (
  feeds: Record<string, TreeTensor>,
  fetches: readonly string[],
) => Record<string, TreeTensor>;

/** Builds the run function of a program (in this thread, or on the model thread from the same source). */
export function treeRun(program: Pick<TreeProgram, 'source' | 'input' | 'outputs' | 'features'>): TreeRun {
  return new Function(`return ${program.source}`)()(
    program.input,
    program.outputs,
    program.features,
  ) as TreeRun;
}

/**
 * The function around the trees: checks the feed as onnxruntime would (a
 * float32 [N, features] tensor) and names the outputs.
 */
const RUN = `
  return function run(feeds, fetches) {
    const feed = feeds[input];
    if (!feed) throw new Error("input '" + input + "' is missing from the feeds");
    const dims = Array.from(feed.dims, Number);
    if (feed.type !== 'float32' || !(feed.data instanceof Float32Array)) {
      throw new Error("unexpected input data type for '" + input + "': expected float32, got " + feed.type);
    }
    if (dims.length !== 2 || dims[1] !== features || feed.data.length !== dims[0] * features) {
      throw new Error("got invalid dimensions for input '" + input + "': expected [N," + features + "], got [" + dims.join(',') + "]");
    }
    const tensors = score(feed.data, dims[0]);
    const results = {};
    for (const name of fetches) {
      const at = outputs.indexOf(name);
      if (at < 0) throw new Error("invalid output name: " + name);
      results[name] = tensors[at];
    }
    return results;
  };`;

const COMPARISONS = new Map([
  ['BRANCH_LEQ', '<='],
  ['BRANCH_LT', '<'],
  ['BRANCH_GTE', '>='],
  ['BRANCH_GT', '>'],
  ['BRANCH_EQ', '==='],
  ['BRANCH_NEQ', '!=='],
]);

/** Beyond these the model stays in onnxruntime (V8 would not optimize such functions well). */
const MAX_DEPTH = 200;
const MAX_NODES = 500_000;
/** Trees up to this depth, and this many padded entries in all, run level by level. */
const MAX_LEVELS = 10;
const MAX_PADDED = 4_000_000;

const KNOWN = new Set([
  'nodes_treeids',
  'nodes_nodeids',
  'nodes_featureids',
  'nodes_values',
  'nodes_modes',
  'nodes_truenodeids',
  'nodes_falsenodeids',
  'nodes_missing_value_tracks_true',
  'nodes_hitrates',
  'post_transform',
  'base_values',
  // regressor
  'n_targets',
  'aggregate_function',
  'target_treeids',
  'target_nodeids',
  'target_ids',
  'target_weights',
  // classifier
  'classlabels_int64s',
  'class_treeids',
  'class_nodeids',
  'class_ids',
  'class_weights',
]);

interface TreeNode {
  feature: number;
  threshold: number;
  mode: string;
  missingTrue: boolean;
  yes: number;
  no: number;
  /** Leaf weights by target or class. */
  weights: Map<number, number>;
}

class Decline extends Error {}

function decline(reason: string): never {
  throw new Decline(reason);
}

/**
 * The program of a model that is one TreeEnsembleRegressor or
 * TreeEnsembleClassifier node, or why not.
 */
export function compileTrees(
  bytes: Uint8Array,
  features: number,
): { program: TreeProgram } | { declined: string } {
  try {
    return { program: compile(bytes, features) };
  } catch (error) {
    if (error instanceof Decline) return { declined: error.message };
    return { declined: `unreadable graph: ${(error as Error).message}` };
  }
}

function compile(bytes: Uint8Array, features: number): TreeProgram {
  const graph = readOnnxGraph(bytes);
  if (graph.nodes.length !== 1 || graph.initializers > 0) decline('not a graph of one tree-ensemble node');
  const node = graph.nodes[0] as OnnxNode;
  if (node.domain !== 'ai.onnx.ml') decline(`operator ${node.domain}.${node.opType}`);
  const classifier = node.opType === 'TreeEnsembleClassifier';
  if (!classifier && node.opType !== 'TreeEnsembleRegressor') decline(`operator ${node.opType}`);
  if (graph.inputs.length !== 1 || node.inputs[0] !== graph.inputs[0]) decline('not one input');
  if (node.outputs.length !== (classifier ? 2 : 1)) decline(`${node.outputs.length} outputs`);
  if (!graph.outputs.every((o) => node.outputs.includes(o))) decline('outputs not of the node');
  if (!Number.isInteger(features) || features < 1) decline('the number of features is not fixed');
  for (const [name, a] of node.attributes) {
    if (!KNOWN.has(name)) decline(`attribute ${name}`);
    if (a.nested) decline(`tensor-valued attribute ${name}`);
  }
  const attr = (name: string): OnnxAttribute | undefined => node.attributes.get(name);
  const ints = (name: string) => attr(name)?.ints ?? [];
  const floats = (name: string) => attr(name)?.floats ?? [];
  if ((attr('post_transform')?.s ?? 'NONE') !== 'NONE')
    decline(`post_transform ${attr('post_transform')?.s}`);

  const treeIds = ints('nodes_treeids');
  const nodeIds = ints('nodes_nodeids');
  const featureIds = ints('nodes_featureids');
  const values = floats('nodes_values');
  const modes = attr('nodes_modes')?.strings ?? [];
  const yes = ints('nodes_truenodeids');
  const no = ints('nodes_falsenodeids');
  const missing = ints('nodes_missing_value_tracks_true');
  const count = treeIds.length;
  if (count === 0 || count > MAX_NODES) decline(`${count} nodes`);
  for (const list of [nodeIds, featureIds, values, modes, yes, no]) {
    if (list.length !== count) decline('node attributes of different lengths');
  }
  if (missing.length !== 0 && missing.length !== count) decline('missing-value tracks of another length');

  // Trees in the order of their first node, each node's id within its tree (as onnxruntime builds them).
  const trees: Array<{ root: number; nodes: Map<number, TreeNode> }> = [];
  const byTree = new Map<number, Map<number, TreeNode>>();
  for (let i = 0; i < count; i++) {
    const tree = treeIds[i] as number;
    let nodes = byTree.get(tree);
    if (!nodes) {
      nodes = new Map();
      byTree.set(tree, nodes);
      trees.push({ root: nodeIds[i] as number, nodes });
    } else if (treeIds[i - 1] !== tree) decline('nodes of a tree are not contiguous');
    const mode = modes[i] as string;
    if (mode !== 'LEAF' && !COMPARISONS.has(mode)) decline(`node mode ${mode}`);
    const feature = featureIds[i] as number;
    if (mode !== 'LEAF' && !(feature >= 0 && feature < features)) decline(`feature ${feature} out of range`);
    if (nodes.has(nodeIds[i] as number)) decline('a node id twice in a tree');
    nodes.set(nodeIds[i] as number, {
      feature,
      threshold: Math.fround(values[i] as number),
      mode,
      missingTrue: (missing[i] ?? 0) !== 0,
      yes: yes[i] as number,
      no: no[i] as number,
      weights: new Map(),
    });
  }

  const prefix = classifier ? 'class' : 'target';
  const wTrees = ints(`${prefix}_treeids`);
  const wNodes = ints(`${prefix}_nodeids`);
  const wIds = ints(`${prefix}_ids`);
  const weights = floats(`${prefix}_weights`);
  if (wNodes.length !== wTrees.length || wIds.length !== wTrees.length || weights.length !== wTrees.length) {
    decline('weight attributes of different lengths');
  }
  const outputs = classifier ? ints('classlabels_int64s').length : (attr('n_targets')?.i ?? 1);
  if (classifier && (attr('classlabels_int64s') === undefined || outputs < 3)) {
    decline('a classifier of fewer than three int64 labels');
  }
  if (!classifier && (attr('aggregate_function')?.s ?? 'SUM') !== 'SUM') {
    decline(`aggregate_function ${attr('aggregate_function')?.s}`);
  }
  if (!(outputs >= 1 && outputs <= 1024)) decline(`${outputs} outputs`);
  for (let i = 0; i < wTrees.length; i++) {
    const target = byTree.get(wTrees[i] as number)?.get(wNodes[i] as number);
    const id = wIds[i] as number;
    if (target?.mode !== 'LEAF') decline('a weight on a missing or inner node');
    if (!(id >= 0 && id < outputs) || target.weights.has(id))
      decline('a weight id out of range or twice on a leaf');
    const weight = Math.fround(weights[i] as number);
    if (classifier && !(weight > 0)) decline('a class weight not above 0');
    target.weights.set(id, weight);
  }
  const base = floats('base_values');
  if (base.length !== 0 && base.length !== outputs) decline('base values of another length');
  if (!classifier && outputs > 1) {
    // onnxruntime answers 0, without the base value, for a target that no leaf of the row weighs.
    const weighed = base.map(
      (b, k) => b === 0 || trees.every((t) => allLeaves(t.nodes, (n) => n.weights.has(k))),
    );
    if (!weighed.every(Boolean)) decline('a base value for a target that some leaf does not weigh');
  }

  const thresholds: number[][] = Array.from({ length: features }, () => []);
  const depths = trees.map((tree, t) => depthOf(tree.nodes, tree.root, t));
  const inner = [...byTree.values()].flatMap((nodes) => [...nodes.values()].filter((n) => n.mode !== 'LEAF'));
  const modesUsed = new Set(inner.map((n) => n.mode));
  const paddedSize = depths.reduce((sum, d) => sum + 2 ** d * (2 + outputs), 0);
  const paddedNodes = depths.reduce((sum, d) => sum + 2 ** (d + 1) - 1, 0);
  // Shallow, nearly complete trees (boosting's fixed depth) of one comparison and no missing-value
  // tracks run level by level without branches; deep, lopsided ones (forests) as nests of ifs, where
  // most rows stop early.
  const byLevels =
    modesUsed.size <= 1 &&
    !inner.some((n) => n.missingTrue) &&
    Math.max(...depths) <= MAX_LEVELS &&
    paddedNodes <= 2 * count &&
    paddedSize <= MAX_PADDED;
  const constants: string[] = [];
  const functions = trees.map((tree, t) =>
    byLevels
      ? levelsSource(tree, t, depths[t] as number, features, outputs, classifier, thresholds, constants)
      : treeSource(tree, t, outputs, classifier, thresholds),
  );
  const labels = ints('classlabels_int64s');
  if (!labels.every(Number.isSafeInteger)) decline('a class label beyond 2^53');
  const finish = classifier ? classifierFinish(outputs, base, labels) : regressorFinish(outputs, base);
  const source = `function (input, outputs, features) {
${constants.join('\n')}
  function score(x, n) {
  const s = new Float32Array(n * ${outputs});
${functions.map((_, t) => `  t${t}(x, n, s);`).join('\n')}
${finish}
  }
  ${functions.join('\n  ')}
${RUN}
}`;
  return {
    input: graph.inputs[0] as string,
    features,
    outputs: node.outputs,
    source,
    thresholds: thresholds.map((list) => [...new Set(list)]),
    layout: byLevels ? 'levels' : 'branches',
  };

  function treeSource(
    tree: { root: number; nodes: Map<number, TreeNode> },
    t: number,
    width: number,
    isClassifier: boolean,
    seen: number[][],
  ): string {
    // Every node is there and the tree ends (depthOf checked both).
    const body = (id: number, indent: string): string => {
      const n = tree.nodes.get(id) as TreeNode;
      if (n.mode === 'LEAF') {
        if (isClassifier && n.weights.size === 0) decline('a leaf without class weights');
        return [...n.weights]
          .sort((a, b) => a[0] - b[0])
          .map(([k, w]) => `${indent}s[r${k === 0 ? '' : ` + ${k}`}] += ${literal(w)};`)
          .join('\n');
      }
      seen[n.feature]?.push(n.threshold);
      const v = `x[o + ${n.feature}]`;
      const test = `${v} ${COMPARISONS.get(n.mode)} ${literal(n.threshold)}${n.missingTrue ? ` || ${v} !== ${v}` : ''}`;
      return `${indent}if (${test}) {\n${body(n.yes, `${indent}  `)}\n${indent}} else {\n${body(n.no, `${indent}  `)}\n${indent}}`;
    };
    return `function t${t}(x, n, s) {
    for (let i = 0, o = 0, r = 0; i < n; i++, o += ${features}, r += ${width}) {
${body(tree.root, '      ')}
    }
  }`;
  }
}

/** Levels below the root to the deepest leaf. @throws Decline on a missing node or a cycle. */
function depthOf(nodes: Map<number, TreeNode>, id: number, t: number, depth = 0): number {
  const n = nodes.get(id) ?? decline(`tree ${t} has no node ${id}`);
  if (depth > MAX_DEPTH) decline(`a tree deeper than ${MAX_DEPTH} (or a cycle)`);
  if (n.mode === 'LEAF') return depth;
  return Math.max(depthOf(nodes, n.yes, t, depth + 1), depthOf(nodes, n.no, t, depth + 1));
}

/**
 * A tree padded to a complete one of its depth, as arrays (features,
 * thresholds, leaf weights by output) walked level by level: node k's
 * children are 2k+1 (the comparison holds) and 2k+2. A leaf above the last
 * level is copied into every leaf below it. Four rows go down at once, the
 * comparison's result added to the index instead of branched on: no branch
 * to mispredict, four independent chains of loads.
 */
function levelsSource(
  tree: { root: number; nodes: Map<number, TreeNode> },
  t: number,
  depth: number,
  features: number,
  width: number,
  isClassifier: boolean,
  seen: number[][],
  constants: string[],
): string {
  const inner = 2 ** depth - 1;
  const F = new Array<number>(inner).fill(0);
  const T = new Array<number>(inner).fill(Number.POSITIVE_INFINITY);
  const L = new Array<number>((inner + 1) * width).fill(0);
  let op = '<=';
  const fill = (id: number, k: number, level: number): void => {
    const n = tree.nodes.get(id) as TreeNode;
    if (n.mode === 'LEAF') {
      if (isClassifier && n.weights.size === 0) decline('a leaf without class weights');
      if (level === depth) for (const [c, w] of n.weights) L[(k - inner) * width + c] = w;
      else {
        fill(id, 2 * k + 1, level + 1);
        fill(id, 2 * k + 2, level + 1);
      }
      return;
    }
    seen[n.feature]?.push(n.threshold);
    op = COMPARISONS.get(n.mode) as string;
    F[k] = n.feature;
    T[k] = n.threshold;
    fill(n.yes, 2 * k + 1, level + 1);
    fill(n.no, 2 * k + 2, level + 1);
  };
  fill(tree.root, 0, 0);
  constants.push(
    `  const F${t} = new Int32Array([${F.join(',')}]), T${t} = new Float64Array([${T.map(literal).join(',')}]), L${t} = new Float64Array([${L.map(literal).join(',')}]);`,
  );
  const rows = (count: number) => {
    const lines: string[] = [];
    for (let q = 0; q < count; q++) lines.push(`let k${q} = 0;`);
    for (let level = 0; level < depth; level++) {
      for (let q = 0; q < count; q++) {
        lines.push(`k${q} = 2 * k${q} + 2 - (x[o + ${q * features} + F${t}[k${q}]] ${op} T${t}[k${q}]);`);
      }
    }
    for (let q = 0; q < count; q++) {
      lines.push(`k${q} = (k${q} - ${inner}) * ${width};`);
      if (width <= 8) {
        for (let c = 0; c < width; c++) lines.push(`s[r + ${q * width + c}] += L${t}[k${q} + ${c}];`);
      } else lines.push(`for (let c = 0; c < ${width}; c++) s[r + ${q * width} + c] += L${t}[k${q} + c];`);
    }
    return lines.map((l) => `      ${l}`).join('\n');
  };
  return `function t${t}(x, n, s) {
    let i = 0, o = 0, r = 0;
    for (; i + 4 <= n; i += 4, o += ${4 * features}, r += ${4 * width}) {
${rows(4)}
    }
    for (; i < n; i++, o += ${features}, r += ${width}) {
${rows(1)}
    }
  }`;
}

function allLeaves(nodes: Map<number, TreeNode>, test: (leaf: TreeNode) => boolean): boolean {
  for (const node of nodes.values()) if (node.mode === 'LEAF' && !test(node)) return false;
  return true;
}

function literal(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return Object.is(value, -0) ? '-0' : String(value);
}

function regressorFinish(targets: number, base: readonly number[]): string {
  const adds = base
    .map((b, k) => (b === 0 ? '' : `    s[r${k === 0 ? '' : ` + ${k}`}] += ${literal(Math.fround(b))};`))
    .filter(Boolean);
  const loop = adds.length
    ? `  for (let i = 0, r = 0; i < n; i++, r += ${targets}) {\n${adds.join('\n')}\n  }\n`
    : '';
  return `${loop}  return [{ type: 'float32', dims: [n, ${targets}], data: s }];`;
}

function classifierFinish(classes: number, base: readonly number[], labels: readonly number[]): string {
  // A class no leaf of the row weighs (its sum is 0: weights are positive) takes the base value as it is.
  const adds = base
    .map((b, k) =>
      Object.is(b, 0)
        ? ''
        : `    s[r + ${k}] = s[r + ${k}] === 0 ? ${literal(Math.fround(b))} : s[r + ${k}] + ${literal(Math.fround(b))};`,
    )
    .filter(Boolean)
    .join('\n');
  // The first class of the highest score, as onnxruntime picks it.
  return `  const labels = [${labels.map((l) => `${l}n`).join(', ')}];
  const label = new BigInt64Array(n);
  for (let i = 0, r = 0; i < n; i++, r += ${classes}) {
${adds}
    let best = 0;
    for (let k = 1; k < ${classes}; k++) if (s[r + k] > s[r + best]) best = k;
    label[i] = labels[best];
  }
  return [
    { type: 'int64', dims: [n], data: label },
    { type: 'float32', dims: [n, ${classes}], data: s },
  ];`;
}

/**
 * Rows that take every branch of every tree: each feature goes through its
 * thresholds, the float32 values just below and above each, and 0, NaN and
 * ±Infinity, in order, then in pseudo-random combinations.
 */
export function probeRows(program: Pick<TreeProgram, 'thresholds' | 'features'>): {
  data: Float32Array;
  rows: number;
} {
  const candidates = program.thresholds.map((list) => {
    const values = [0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    for (const t of list) values.push(t, nextFloat32(t, -1), nextFloat32(t, 1));
    return values;
  });
  const longest = Math.max(...candidates.map((c) => c.length));
  const rows = Math.min(2 * longest, MAX_PROBE_ROWS);
  const data = new Float32Array(rows * program.features);
  let seed = 7;
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < program.features; f++) {
      const c = candidates[f] as number[];
      seed = (seed * 16807) % 2147483647;
      data[r * program.features + f] = c[(r < longest ? r : seed) % c.length] as number;
    }
  }
  return { data, rows };
}

const MAX_PROBE_ROWS = 8192;

const bits = new Float32Array(1);
const word = new Int32Array(bits.buffer);

/** The next float32 after `value` towards +∞ (direction 1) or −∞ (−1). */
function nextFloat32(value: number, direction: 1 | -1): number {
  if (!Number.isFinite(value)) return value;
  if (value === 0) return direction * 2 ** -149;
  bits[0] = value;
  word[0] = (word[0] as number) + (value > 0 === direction > 0 ? 1 : -1);
  return bits[0] as number;
}

/** True when two results hold the same tensors, element for element (NaN equal to NaN). */
export function sameResults(
  a: Record<string, { dims: readonly number[]; data: unknown }>,
  b: Record<string, { dims: readonly number[]; data: unknown }>,
  names: readonly string[],
): boolean {
  return names.every((name) => {
    const x = a[name];
    const y = b[name];
    if (!x || !y || x.dims.map(Number).join() !== y.dims.map(Number).join()) return false;
    const p = x.data as ArrayLike<unknown>;
    const q = y.data as ArrayLike<unknown>;
    if (p.length !== q.length) return false;
    for (let i = 0; i < p.length; i++) if (!Object.is(p[i], q[i])) return false;
    return true;
  });
}
