/** Classifiers in skl2onnx's default layout (a ZipMap output) published, rewritten and served with labels and probabilities. */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, topologyEnv } from '../fixtures/cli.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

let api: TestTopology;
beforeAll(async () => {
  api = await startTestTopology({ seed: false });
});
afterAll(() => api.close());

const fixtures = new URL('../fixtures/models/', import.meta.url);
/** scikit-learn's answers for the rows, written by models/build.py with the two graphs. */
const expected: { instances: number[][]; classes: number[]; probabilities: number[][]; names: string[] } =
  JSON.parse(readFileSync(new URL('zipmap.json', fixtures), 'utf8'));

const cli = (...argv: string[]) => runCli(argv, topologyEnv(api));

describe.each([
  ['ints', ['0', '1', '2'], 'INT64', (c: number) => c],
  ['strings', ['setosa', 'versicolor', 'virginica'], 'BYTES', (c: number) => expected.names[c]],
] as const)('a ZipMap classifier with %s class labels', (kind, labels, labelType, classOf) => {
  const name = `zipmap-${kind}`;

  it('publishes rewritten, saying so, with the labels from the ZipMap in the manifest', async () => {
    const { code, out } = await cli(
      'models',
      'push',
      new URL(`${name}.onnx`, fixtures).pathname,
      '--name',
      name,
    );
    expect(code).toBe(0);
    expect(out).toContain(
      `  outputs output_label ${labelType} [-1], output_probability FP32 [-1,3]\n  zipmap  rewritten: output_probability is now an [N, 3] FP32 tensor; labels ${labels.join(', ')} (${kind === 'ints' ? 'int' : 'string'}) from the ZipMap\n`,
    );
    const described = JSON.parse((await cli('models', 'describe', name, '--json')).out);
    expect(JSON.stringify(described)).toContain(JSON.stringify(labels));
  });

  it('predicts the class and its probabilities as scikit-learn does', async () => {
    const { status, json } = await api.call(`/v1/models/${name}/predict`, {
      body: { instances: expected.instances },
    });
    expect(status).toBe(200);
    expect(json.predictions).toEqual(expected.classes.map((c) => classOf(c)));
    json.probabilities.forEach((row: Record<string, number>, i: number) => {
      expect(Object.keys(row)).toEqual(labels);
      labels.forEach((label, c) => {
        expect(row[label]).toBeCloseTo(expected.probabilities[i]?.[c] as number, 5);
      });
    });
  });

  it(`answers V2 infer with ${labelType} labels and an [N, 3] FP32 probability tensor`, async () => {
    const rows = expected.instances;
    const { status, json } = await api.call(`/v2/models/${name}/infer`, {
      body: { inputs: [{ name: 'input', shape: [rows.length, 4], datatype: 'FP32', data: rows }] },
    });
    expect(status).toBe(200);
    const [label, probabilities] = json.outputs;
    expect(label).toMatchObject({ name: 'output_label', datatype: labelType, shape: [rows.length] });
    expect(label.data).toEqual(expected.classes.map((c) => classOf(c)));
    expect(probabilities).toMatchObject({
      name: 'output_probability',
      datatype: 'FP32',
      shape: [rows.length, 3],
    });
    (probabilities.data as number[]).forEach((p, i) => {
      expect(p).toBeCloseTo(expected.probabilities.flat()[i] as number, 5);
    });
  });
});
