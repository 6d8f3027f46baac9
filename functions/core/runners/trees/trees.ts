/**
 * Tree ensembles compiled to JavaScript, as Treelite and m2cgen compile them to C (docs/TREES.md):
 * the entry the ONNX runner imports. Reading: ensemble.ts; layouts: branches.ts, levels.ts;
 * assembling and running: program.ts; checking against onnxruntime: verify.ts.
 */
export { compileTrees, type TreeProgram, type TreeRun, type TreeTensor, treeRun } from './program.ts';
export { probeRows, sameResults, TRANSFORMED_ULPS, ulpDistance, withinRule } from './verify.ts';
