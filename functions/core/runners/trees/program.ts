/**
 * The program of a tree ensemble: the generated functions of its trees assembled into one source
 * that scores a batch of rows, and the run function built from that source.
 */
import { branchesSource } from './branches.ts';
import { classifierFinish } from './classes.ts';
import { Decline, type Ensemble, readEnsemble } from './ensemble.ts';
import { fitsLevels, levelsSource } from './levels.ts';
import { literal } from './literal.ts';
import { TRANSFORMED_ULPS } from './verify.ts';

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
  /**
   * How far the program's float scores may be from onnxruntime's, in float32 ulps: 0 (bit for bit)
   * but for LOGISTIC and SOFTMAX, whose exp is the C library's there and V8's here. Labels are exact.
   */
  readonly ulps: number;
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
 * The program of a model that is one TreeEnsembleRegressor or
 * TreeEnsembleClassifier node, or why not.
 */
export function compileTrees(
  bytes: Uint8Array,
  features: number,
): { program: TreeProgram } | { declined: string } {
  try {
    return { program: assemble(readEnsemble(bytes, features), features) };
  } catch (error) {
    if (error instanceof Decline) return { declined: error.message };
    return { declined: `unreadable graph: ${(error as Error).message}` };
  }
}

/**
 * The program reproduces onnxruntime's arithmetic exactly: float32 inputs
 * compared with float32 thresholds, leaf weights added in float32 in tree
 * order (a Float32Array store rounds as a C++ float add does), base values
 * added last, a classifier's label picked from those sums and its scores
 * transformed as onnxruntime does (classes.ts).
 */
function assemble(ensemble: Ensemble, features: number): TreeProgram {
  const { trees, width, classifier, base, transform } = ensemble;
  const byLevels = fitsLevels(ensemble);
  const constants: string[] = [];
  const functions = trees.map((tree, t) => {
    if (!byLevels) return branchesSource(tree, t, features, width);
    const levels = levelsSource(tree, t, features, width);
    constants.push(levels.constants);
    return levels.source;
  });
  const finish = classifier ? classifierFinish(ensemble) : regressorFinish(width, base);
  const source = `function (input, outputs, features) {
${constants.join('\n')}
  function score(x, n) {
  const s = new Float32Array(n * ${width});
${functions.map((_, t) => `  t${t}(x, n, s);`).join('\n')}
${finish}
  }
  ${functions.join('\n  ')}
${RUN_FUNCTION}
}`;
  return {
    input: ensemble.input,
    features,
    outputs: ensemble.outputNames,
    source,
    thresholds: ensemble.thresholds,
    layout: byLevels ? 'levels' : 'branches',
    ulps: transform === 'NONE' ? 0 : TRANSFORMED_ULPS,
  };
}

/**
 * The function around the trees, returned by the program's source: checks the feed as
 * onnxruntime would (a float32 [N, features] tensor), scores it and names the outputs.
 */
const RUN_FUNCTION = `
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

/** The end of `score` for a regressor: base values added, the scores returned. */
function regressorFinish(targets: number, base: readonly number[]): string {
  const adds = base
    .map((b, k) => (b === 0 ? '' : `    s[r${k === 0 ? '' : ` + ${k}`}] += ${literal(Math.fround(b))};`))
    .filter(Boolean);
  const loop = adds.length
    ? `  for (let i = 0, r = 0; i < n; i++, r += ${targets}) {\n${adds.join('\n')}\n  }\n`
    : '';
  return `${loop}  return [{ type: 'float32', dims: [n, ${targets}], data: s }];`;
}
