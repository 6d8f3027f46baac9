/**
 * The ONNX runtime over models published to a real s3rver: parity with scikit-learn, session and disk caches,
 * sha256 checks, compiled trees (at load, in the background, on the model thread) and the model's own thread.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishModel } from '../../../../cli/registry/publish.ts';
import { ModelIntegrityError } from '../../../../functions/core/errors.ts';
import { encodeElements } from '../../../../functions/core/protocols/datatypes.ts';
import { ArtifactStore } from '../../../../functions/core/registry/artifacts.ts';
import { keys, type Manifest } from '../../../../functions/core/registry/manifest.ts';
import {
  OnnxRuntime,
  type OnnxRuntimeOptions,
  type TreeCompileEvent,
} from '../../../../functions/core/runners/onnx/runtime.ts';
import { OnnxThread } from '../../../../functions/core/runners/onnx/thread.ts';
import { parityFixture, sampleModelBytes } from '../../../fixtures/models.ts';
import { startTestS3, type TestS3 } from '../../../fixtures/s3.ts';

let t: TestS3;
let iris: Manifest;
let linear: Manifest;
beforeAll(async () => {
  t = await startTestS3();
  iris = await publishModel(t.s3, t.bucket, { name: 'iris', bytes: sampleModelBytes('iris') });
  linear = await publishModel(t.s3, t.bucket, { name: 'linear', bytes: sampleModelBytes('linear') });
});
afterAll(() => t.close());

function runtime(
  cacheDir = mkdtempSync(join(tmpdir(), 'mg-cache-')),
  maxCacheBytes = 1 << 30,
  thread = false,
  trees: OnnxRuntimeOptions['trees'] = 'load',
) {
  const loads: Array<{ model: string; source: string }> = [];
  const diskErrors: unknown[] = [];
  const compiles: Array<{ model: string } & TreeCompileEvent> = [];
  const rt = new OnnxRuntime({
    trees,
    onCompile: (m, e) => compiles.push({ model: m.name, ...e }),
    artifacts: new ArtifactStore({
      s3: t.s3,
      bucket: t.bucket,
      cacheDir,
      onDiskError: (e) => diskErrors.push(e),
    }),
    maxCacheBytes,
    thread,
    onLoad: (m, e) => loads.push({ model: m.name, source: e.source }),
  });
  return { rt, loads, diskErrors, cacheDir, compiles };
}

const irisRows = (rows: number[][]) => [
  {
    name: 'input',
    datatype: 'FP32' as const,
    shape: [rows.length, 4],
    data: encodeElements(rows.flat(), 'FP32', String),
  },
];

describe('OnnxRuntime', () => {
  it('runs a batch and matches scikit-learn on every row', async () => {
    const { rt } = runtime();
    const fixture = parityFixture('iris');
    const [label, probabilities] = await rt.runner(iris).infer(irisRows(fixture.instances));
    expect(label).toMatchObject({ name: 'label', datatype: 'INT64', shape: [150] });
    const names = ['setosa', 'versicolor', 'virginica'];
    expect(label?.data.map((id) => names[id as number])).toEqual(fixture.predictions);
    expect(probabilities?.shape).toEqual([150, 3]);
    fixture.probabilities?.flat().forEach((p, i) => {
      expect(probabilities?.data[i]).toBeCloseTo(p, 5);
    });
  });

  it('creates a session once per (name, version, sha256) and reads the file from disk after that', async () => {
    const { rt, loads, cacheDir } = runtime();
    const runner = rt.runner(iris);
    expect(runner.ready).toBe(false);
    await Promise.all([runner.load(), rt.runner(iris).infer(irisRows([[5, 3, 1, 0.2]]))]);
    expect(runner.ready).toBe(true);
    expect(loads).toEqual([{ model: 'iris', source: 's3' }]);
    expect(readdirSync(cacheDir)).toEqual([`${iris.sha256}.onnx`]);
    const second = runtime(cacheDir);
    await second.rt.runner(iris).load();
    expect(second.loads).toEqual([{ model: 'iris', source: 'disk' }]);
  });

  it('returns only the requested outputs', async () => {
    const { rt } = runtime();
    const outputs = await rt.runner(iris).infer(irisRows([[5, 3, 1, 0.2]]), ['probabilities']);
    expect(outputs.map((o) => o.name)).toEqual(['probabilities']);
  });

  it('keeps the session cache within its byte bound', async () => {
    const { rt, loads } = runtime(undefined, iris.sizeBytes + 10);
    await rt.runner(iris).load();
    await rt.runner(linear).load();
    expect(rt.stats.sessions).toBe(1);
    await rt.runner(iris).load();
    expect(loads.map((l) => l.model)).toEqual(['iris', 'linear', 'iris']);
  });

  it('detects a model file whose sha256 does not match its manifest', async () => {
    const broken = await publishModel(t.s3, t.bucket, { name: 'broken', bytes: sampleModelBytes('linear') });
    await t.s3.send(
      new PutObjectCommand({
        Bucket: t.bucket,
        Key: keys.modelFile('broken', broken.version),
        Body: sampleModelBytes('iris'),
      }),
    );
    const { rt } = runtime();
    const attempt = rt.runner(broken).load();
    await expect(attempt).rejects.toThrow(ModelIntegrityError);
    await expect(attempt).rejects.toThrow(
      /is corrupt: its file has sha256 [0-9a-f]{64} but the manifest says/,
    );
  });

  it('serves from memory when the disk cache cannot be written', async () => {
    // A folder under a regular file cannot be created, even by root.
    const { rt, diskErrors } = runtime(join(import.meta.filename, 'cache'));
    const [prediction] = await rt
      .runner(linear)
      .infer([{ name: 'input', datatype: 'FP32', shape: [1, 1], data: Float32Array.from([1]) }]);
    expect(prediction?.data[0]).toBeCloseTo(3.4946, 3);
    expect(diskErrors).toHaveLength(1);
  });
});

describe('OnnxRuntime with compiled trees', () => {
  const parityRows = () => irisRows(parityFixture('iris').instances);

  it('runs a forest as compiled trees once they match onnxruntime, with the same answers', async () => {
    const compiled = runtime();
    const plain = runtime(undefined, undefined, false, 'off');
    const ours = await compiled.rt.runner(iris).infer(parityRows());
    expect(await compiled.rt.engine(iris)).toBe('trees');
    expect(compiled.compiles).toEqual([{ model: 'iris', compiled: true, ms: expect.any(Number) }]);
    expect(ours).toEqual(await plain.rt.runner(iris).infer(parityRows()));
    expect(await plain.rt.engine(iris)).toBe('onnxruntime');
    expect(plain.compiles).toEqual([]);
  });

  it('keeps other models in onnxruntime and says why', async () => {
    const { rt, compiles } = runtime();
    await rt.runner(linear).load();
    expect(await rt.engine(linear)).toBe('onnxruntime');
    expect(compiles).toEqual([
      { model: 'linear', compiled: false, reason: 'operator LinearRegressor', ms: expect.any(Number) },
    ]);
  });

  it('compiles in the background after the first answer, which onnxruntime gives', async () => {
    const { rt, compiles } = runtime(undefined, undefined, false, 'background');
    const first = await rt.runner(iris).infer(parityRows());
    expect(compiles).toEqual([]);
    // Requests keep coming while the trees are compiled and onnxruntime's session is released.
    let compiled = false;
    const engine = rt.engine(iris).finally(() => {
      compiled = true;
    });
    let during = 0;
    while (!compiled) {
      const answers = await Promise.all(Array.from({ length: 8 }, () => rt.runner(iris).infer(parityRows())));
      for (const a of answers) expect(a).toEqual(first);
      during += answers.length;
    }
    expect(during).toBeGreaterThan(0);
    expect(await engine).toBe('trees');
    expect(compiles.map((c) => c.compiled)).toEqual([true]);
    expect(await rt.runner(iris).infer(parityRows())).toEqual(first);
  });

  it('runs compiled trees on the model thread, and again after the thread restarts', async () => {
    const { rt } = runtime(undefined, undefined, true);
    const plain = runtime(undefined, undefined, true, 'off');
    const expected = await plain.rt.runner(iris).inferTimed?.(parityRows());
    const first = await rt.runner(iris).inferTimed?.(parityRows());
    expect(await rt.engine(iris)).toBe('trees');
    expect(first?.outputs).toEqual(expected?.outputs);
    await (rt as unknown as { thread: OnnxThread }).thread.close();
    expect((await rt.runner(iris).inferTimed?.(parityRows()))?.outputs).toEqual(expected?.outputs);
    for (const r of [rt, plain.rt]) await (r as unknown as { thread: OnnxThread }).thread.close();
  });
});

describe('OnnxRuntime on a thread of its own', () => {
  it("gives the same answers as in process, and the model's own run time", async () => {
    const inProcess = runtime().rt;
    const threaded = runtime(undefined, undefined, true).rt;
    const rows = irisRows(parityFixture('iris').instances);
    const expected = await inProcess.runner(iris).infer(rows);
    const started = performance.now();
    const timed = await threaded.runner(iris).inferTimed?.(rows);
    const wall = performance.now() - started;
    expect(timed?.outputs).toEqual(expected);
    expect(timed?.ms).toBeGreaterThan(0);
    expect(timed?.ms).toBeLessThan(wall);
    // Runs queue on the thread and each answer goes back to its caller.
    const linearRows = [1, 2, 3].map((x) => [
      { name: 'input', datatype: 'FP32' as const, shape: [1, 1], data: Float32Array.from([x]) },
    ]);
    const answers = await Promise.all(linearRows.map((r) => threaded.runner(linear).infer(r)));
    const direct = await Promise.all(linearRows.map((r) => inProcess.runner(linear).infer(r)));
    expect(answers).toEqual(direct);
  });

  it("passes onnxruntime's errors back, and refuses a file that does not load", async () => {
    const { rt } = runtime(undefined, undefined, true);
    await expect(
      rt.runner(iris).infer([{ name: 'wrong', datatype: 'FP32', shape: [1, 4], data: new Float32Array(4) }]),
    ).rejects.toThrow(/input 'input' is missing/);
    const broken = await publishModel(t.s3, t.bucket, {
      name: 'threaded-broken',
      bytes: sampleModelBytes('linear'),
    });
    await t.s3.send(
      new PutObjectCommand({
        Bucket: t.bucket,
        Key: keys.modelFile(broken.name, broken.version),
        Body: 'not onnx',
      }),
    );
    await expect(rt.runner({ ...broken, sizeBytes: 8, sha256: sha256('not onnx') }).load()).rejects.toThrow(
      ModelIntegrityError,
    );
  });

  it('starts the thread again after it stops, and creates its sessions again', async () => {
    const thread = new OnnxThread();
    const session = await thread.createSession(sampleModelBytes('linear'), { intraOpNumThreads: 1 });
    const feeds = () => ({ input: new ort.Tensor('float32', Float32Array.from([1]), [1, 1]) });
    const first = await session.run(feeds(), [...session.outputNames]);
    await thread.close();
    const again = await session.run(feeds(), [...session.outputNames]);
    expect(Array.from(again.results[session.outputNames[0] as string]?.data as Float32Array)).toEqual(
      Array.from(first.results[session.outputNames[0] as string]?.data as Float32Array),
    );
    await thread.close();
  });
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
