/**
 * Reads the one TreeEnsembleRegressor or TreeEnsembleClassifier node of an ONNX graph into typed
 * trees, or declines the model with the reason (it then runs in onnxruntime).
 */
import { checkClasses } from './classes.ts';
import { type OnnxAttribute, type OnnxNode, readOnnxGraph } from './onnx-graph.ts';

/** The node modes the compiler covers, and the JavaScript comparison each becomes. */
export const COMPARISONS = new Map([
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

/** The attributes the compiler reads; a node with any other is declined. */
const READ_ATTRIBUTES = new Set([
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

export interface TreeNode {
  feature: number;
  /** Rounded to float32, as onnxruntime compares. */
  threshold: number;
  mode: string;
  missingTrue: boolean;
  yes: number;
  no: number;
  /** Leaf weights by target or class, rounded to float32. */
  weights: Map<number, number>;
}

export interface Tree {
  readonly root: number;
  /** Every node of the tree by its id, reachable from the root or not. */
  readonly nodes: Map<number, TreeNode>;
  /** Levels below the root to the deepest leaf. */
  readonly depth: number;
}

export interface Ensemble {
  /** The graph's one input: float32 [N, features]. */
  readonly input: string;
  /** The node's outputs: the scores (regressor), or the labels and the scores (classifier). */
  readonly outputNames: readonly string[];
  readonly classifier: boolean;
  /** In the order of their first node, as onnxruntime builds them. */
  readonly trees: readonly Tree[];
  /** Scores per row: the targets or classes. */
  readonly width: number;
  /** Nodes in all trees. */
  readonly nodeCount: number;
  /** Added to the scores last; empty when none. */
  readonly base: readonly number[];
  /** The classifier's int64 labels (safe integers); empty for a regressor. */
  readonly labels: readonly number[];
  /** A classifier's post transform (a regressor's is `NONE`). */
  readonly transform: Transform;
  /** Whether no class weight is below 0 (onnxruntime picks a binary classifier's label and scores by it). */
  readonly positive: boolean;
  /** Each feature's distinct thresholds, in the order the trees compare them. */
  readonly thresholds: readonly number[][];
}

/** The post transforms the compiler covers (classifiers only; regressors take `NONE`). */
export type Transform = 'NONE' | 'LOGISTIC' | 'SOFTMAX';
const TRANSFORMS = new Set<string>(['NONE', 'LOGISTIC', 'SOFTMAX']);

/** Why a model is not compiled. */
export class Decline extends Error {}

export function decline(reason: string): never {
  throw new Decline(reason);
}

/**
 * The ensemble of a model that is one tree-ensemble node the compiler covers.
 * @throws Decline for what it does not cover: other operators or post transforms,
 * class layouts whose scores onnxruntime picks in other ways (classes.ts), tensor-valued
 * attributes, graphs of more than the one node; any other error for an unreadable graph.
 */
export function readEnsemble(bytes: Uint8Array, features: number): Ensemble {
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
    if (!READ_ATTRIBUTES.has(name)) decline(`attribute ${name}`);
    if (a.nested) decline(`tensor-valued attribute ${name}`);
  }
  const attr = (name: string): OnnxAttribute | undefined => node.attributes.get(name);
  const ints = (name: string) => attr(name)?.ints ?? [];
  const floats = (name: string) => attr(name)?.floats ?? [];
  const transform = attr('post_transform')?.s ?? 'NONE';
  if (!(classifier ? TRANSFORMS.has(transform) : transform === 'NONE'))
    decline(`post_transform ${transform}`);

  const { trees, count } = readNodes(attr, ints, floats, features);
  const byTree = new Map(trees.map((tree) => [tree.id, tree.nodes]));

  const prefix = classifier ? 'class' : 'target';
  const wTrees = ints(`${prefix}_treeids`);
  const wNodes = ints(`${prefix}_nodeids`);
  const wIds = ints(`${prefix}_ids`);
  const weights = floats(`${prefix}_weights`);
  if (wNodes.length !== wTrees.length || wIds.length !== wTrees.length || weights.length !== wTrees.length) {
    decline('weight attributes of different lengths');
  }
  const width = classifier ? ints('classlabels_int64s').length : (attr('n_targets')?.i ?? 1);
  if (classifier && (attr('classlabels_int64s') === undefined || width < 2)) {
    decline('a classifier of fewer than two int64 labels');
  }
  if (!classifier && (attr('aggregate_function')?.s ?? 'SUM') !== 'SUM') {
    decline(`aggregate_function ${attr('aggregate_function')?.s}`);
  }
  if (!(width >= 1 && width <= 1024)) decline(`${width} outputs`);
  for (let i = 0; i < wTrees.length; i++) {
    const target = byTree.get(wTrees[i] as number)?.get(wNodes[i] as number);
    const id = wIds[i] as number;
    if (target?.mode !== 'LEAF') decline('a weight on a missing or inner node');
    if (!(id >= 0 && id < width) || target.weights.has(id))
      decline('a weight id out of range or twice on a leaf');
    target.weights.set(id, Math.fround(weights[i] as number));
  }
  const base = floats('base_values');
  const positive = weights.every((w) => !(w < 0));
  if (classifier) checkClasses(trees, width, base, positive && weights.every((w) => w !== 0));
  else if (base.length !== 0 && base.length !== width) decline('base values of another length');
  if (!classifier && width > 1) {
    // onnxruntime answers 0, without the base value, for a target that no leaf of the row weighs.
    const weighed = base.map(
      (b, k) => b === 0 || trees.every((t) => allLeaves(t.nodes, (n) => n.weights.has(k))),
    );
    if (!weighed.every(Boolean)) decline('a base value for a target that some leaf does not weigh');
  }

  const depths = trees.map((tree, t) => depthOf(tree.nodes, tree.root, t));
  const thresholds: number[][] = Array.from({ length: features }, () => []);
  for (const tree of trees) {
    for (const n of reachable(tree)) {
      if (n.mode !== 'LEAF') thresholds[n.feature]?.push(n.threshold);
      else if (classifier && n.weights.size === 0) decline('a leaf without class weights');
    }
  }
  const labels = ints('classlabels_int64s');
  if (!labels.every(Number.isSafeInteger)) decline('a class label beyond 2^53');
  return {
    input: graph.inputs[0] as string,
    outputNames: node.outputs,
    classifier,
    trees: trees.map((tree, t) => ({ root: tree.root, nodes: tree.nodes, depth: depths[t] as number })),
    width,
    nodeCount: count,
    base,
    labels,
    transform: transform as Transform,
    positive,
    thresholds: thresholds.map((list) => [...new Set(list)]),
  };
}

/** The trees of the node attributes, in the order of their first node, each node's id within its tree. */
function readNodes(
  attr: (name: string) => OnnxAttribute | undefined,
  ints: (name: string) => readonly number[],
  floats: (name: string) => readonly number[],
  features: number,
): { trees: Array<{ id: number; root: number; nodes: Map<number, TreeNode> }>; count: number } {
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

  const trees: Array<{ id: number; root: number; nodes: Map<number, TreeNode> }> = [];
  const byTree = new Map<number, Map<number, TreeNode>>();
  for (let i = 0; i < count; i++) {
    const tree = treeIds[i] as number;
    let nodes = byTree.get(tree);
    if (!nodes) {
      nodes = new Map();
      byTree.set(tree, nodes);
      trees.push({ id: tree, root: nodeIds[i] as number, nodes });
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
  return { trees, count };
}

/** Levels below the root to the deepest leaf. @throws Decline on a missing node or a cycle. */
function depthOf(nodes: Map<number, TreeNode>, id: number, t: number, depth = 0): number {
  const n = nodes.get(id) ?? decline(`tree ${t} has no node ${id}`);
  if (depth > MAX_DEPTH) decline(`a tree deeper than ${MAX_DEPTH} (or a cycle)`);
  if (n.mode === 'LEAF') return depth;
  return Math.max(depthOf(nodes, n.yes, t, depth + 1), depthOf(nodes, n.no, t, depth + 1));
}

/** The nodes on the tree's paths, depth first (a node, its `yes` side, its `no` side); depthOf checked it ends. */
function* reachable(tree: { root: number; nodes: Map<number, TreeNode> }): Generator<TreeNode> {
  const stack = [tree.root];
  while (stack.length > 0) {
    const n = tree.nodes.get(stack.pop() as number) as TreeNode;
    yield n;
    if (n.mode !== 'LEAF') stack.push(n.no, n.yes);
  }
}

export function allLeaves(nodes: Map<number, TreeNode>, test: (leaf: TreeNode) => boolean): boolean {
  for (const node of nodes.values()) if (node.mode === 'LEAF' && !test(node)) return false;
  return true;
}
