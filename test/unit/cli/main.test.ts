import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../cli/main.ts';
import { startTestS3, type TestS3 } from '../../fixtures/s3.ts';

let t: TestS3;
beforeAll(async () => {
  t = await startTestS3('cli-models');
});
afterAll(() => t.close());

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const env = { MODELGATE_S3_PORT: String(t.store.port), MODELGATE_BUCKET: t.bucket };
  const code = await run(argv, {
    out: { write: (s: string) => (out += s) },
    err: { write: (s: string) => (err += s) },
    env,
  });
  return { code, out, err };
}

const model = (name: string) => new URL(`../../../models/${name}/model.onnx`, import.meta.url).pathname;

describe('modelgate models', () => {
  it('pushes an ONNX file as a new version, reading its tensors from the graph', async () => {
    const first = await cli(
      'models',
      'push',
      model('iris'),
      '--name',
      'flowers',
      '--labels',
      'setosa,versicolor,virginica',
    );
    expect(first).toMatchObject({ code: 0, err: '' });
    expect(first.out).toMatch(/published flowers version 1 to http:\/\/127\.0\.0\.1:\d+\/cli-models/);
    expect(first.out).toMatch(
      /inputs {2}input FP32 \[-1,4\]\n {2}outputs label INT64 \[-1\], probabilities FP32 \[-1,3\]/,
    );
    const second = await cli('models', 'push', model('iris'), '--name', 'flowers', '--json');
    expect(JSON.parse(second.out)).toMatchObject({ name: 'flowers', version: '2', format: 'onnx' });
  });

  it('lists models and versions as a table or JSON', async () => {
    await cli('models', 'push', model('linear'), '--name', 'line');
    const table = await cli('models', 'list');
    expect(table.out).toBe('MODEL    VERSIONS\nflowers  1, 2\nline     1\n');
    expect(JSON.parse((await cli('models', 'list', '--json')).out)).toEqual([
      { name: 'flowers', versions: ['1', '2'] },
      { name: 'line', versions: ['1'] },
    ]);
  });

  it('refuses a file that does not load, with the reason, and exits 1', async () => {
    const bad = await cli('models', 'push', new URL(import.meta.url).pathname, '--name', 'junk');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^modelgate: not a loadable ONNX model: /);
    const missing = await cli('models', 'push', '/nonexistent.onnx', '--name', 'junk');
    expect(missing).toMatchObject({ code: 1, err: expect.stringMatching(/cannot read \/nonexistent.onnx/) });
  });

  it('explains usage mistakes with exit code 2', async () => {
    expect(await cli('models', 'push', model('iris'))).toMatchObject({
      code: 2,
      err: expect.stringMatching(/needs exactly one ONNX file and --name/),
    });
    expect(await cli('models', 'frobnicate')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/unknown command 'models frobnicate'/),
    });
    expect(await cli('--bogus')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/Unknown option '--bogus'/),
    });
    expect(await cli('--help')).toMatchObject({ code: 0, out: expect.stringMatching(/^Usage: modelgate/) });
  });

  it('says plainly when the local store is not running', async () => {
    let err = '';
    const code = await run(['models', 'list'], {
      out: { write: () => {} },
      err: { write: (s: string) => (err += s) },
      env: { MODELGATE_S3_PORT: '1' },
    });
    expect(code).toBe(1);
    expect(err).toMatch(
      /model store unavailable|cannot reach the model store at http:\/\/127\.0\.0\.1:1\/modelgate/,
    );
  });
});
