/**
 * The `modelgate models` CLI run in process against a real s3rver: push (progress, tensors read from the graph,
 * concurrent pushes), list, the alias lifecycle and history, guarded deletes, and bad input refused with exit codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../fixtures/cli.ts';
import { startTestS3, type TestS3 } from '../../fixtures/s3.ts';

let t: TestS3;
beforeAll(async () => {
  t = await startTestS3('cli-models');
});
afterAll(() => t.close());

function cli(...argv: string[]) {
  return runCli(argv, { MODELGATE_S3_PORT: String(t.store.port), MODELGATE_BUCKET: t.bucket });
}

const model = (name: string) => new URL(`../../../models/${name}/model.onnx`, import.meta.url).pathname;

describe('modelgate models push and list', () => {
  it('pushes an ONNX file as a new version with a progress bar on stderr, reading its tensors from the graph', async () => {
    const first = await cli(
      'models',
      'push',
      model('iris'),
      '--name',
      'flowers',
      '--labels',
      'setosa,versicolor,virginica',
    );
    expect(first.code).toBe(0);
    expect(first.err).toMatch(/^\ruploading \[#{30}\] 48\.7\/48\.7 KB\n$/);
    expect(first.out).toMatch(/published flowers version 1 to http:\/\/127\.0\.0\.1:\d+\/cli-models/);
    expect(first.out).toMatch(
      /inputs {2}input FP32 \[-1,4\]\n {2}outputs label INT64 \[-1\], probabilities FP32 \[-1,3\]/,
    );
    const second = await cli('models', 'push', model('iris'), '--name', 'flowers', '--json');
    expect(JSON.parse(second.out)).toMatchObject({ name: 'flowers', version: '2', format: 'onnx' });
  });

  it('sets an alias on push', async () => {
    const pushed = await cli('models', 'push', model('linear'), '--name', 'line', '--set-alias', 'staging');
    expect(pushed.out).toMatch(/ {2}alias {3}staging -> 1\n/);
  });

  it('lists models, versions and production routing as a table or JSON', async () => {
    const table = await cli('models', 'list');
    expect(table.out).toBe(
      'MODEL    VERSIONS  PRODUCTION\nflowers  1, 2      latest (2)\nline     1         latest (1)\n',
    );
    expect(JSON.parse((await cli('models', 'list', '--json')).out)).toEqual([
      { name: 'flowers', versions: ['1', '2'], aliases: {} },
      { name: 'line', versions: ['1'], aliases: { staging: { routes: [{ version: '1', weight: 100 }] } } },
    ]);
  });

  it('pushes concurrently without two pushes taking one version', async () => {
    const pushes = await Promise.all(
      [1, 2, 3, 4].map(() => cli('models', 'push', model('linear'), '--name', 'busy', '--json')),
    );
    expect(pushes.map((p) => JSON.parse(p.out).version).sort()).toEqual(['1', '2', '3', '4']);
  });

  it('refuses a file that does not load, with the reason, and exits 1', async () => {
    const bad = await cli('models', 'push', new URL(import.meta.url).pathname, '--name', 'junk');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^modelgate: not a loadable ONNX model: /);
    const missing = await cli('models', 'push', '/nonexistent.onnx', '--name', 'junk');
    expect(missing).toMatchObject({ code: 1, err: expect.stringMatching(/cannot read \/nonexistent.onnx/) });
    const name = await cli('models', 'push', model('iris'), '--name', 'Bad Name');
    expect(name).toMatchObject({ code: 1, err: expect.stringMatching(/model name "Bad Name" is invalid/) });
  });
});

describe('modelgate models lifecycle', () => {
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) await cli('models', 'push', model('iris'), '--name', 'life');
  });

  it('canaries, promotes, shadows, rolls back and shows it all in describe and history', async () => {
    const canary = await cli('models', 'canary', 'life', '--version', '3', '--weight', '10');
    expect(canary).toMatchObject({ code: 0, err: '' });
    expect(canary.out).toBe('life: canary 3 at 10%\n  before  latest version\n  now     2 (90%), 3 (10%)\n');

    const shadow = await cli('models', 'shadow', 'life', '--version', '1', '--json');
    expect(JSON.parse(shadow.out)).toMatchObject({
      name: 'life',
      action: 'shadow 1',
      after: { production: { routes: [{ version: '2' }, { version: '3' }], shadow: '1' } },
    });

    const promote = await cli('models', 'promote', 'life', '--version', '3');
    expect(promote.out).toMatch(/now {5}3, shadow 1\n$/);

    const describe = await cli('models', 'describe', 'life');
    expect(describe.code).toBe(0);
    expect(describe.out).toMatch(/^model {4}life\ninputs {3}input FP32 \[-1,4\]\n/);
    expect(describe.out).toMatch(/\naliases\n {2}ALIAS {7}ROUTES\n {2}production {2}3, shadow 1\n/);
    expect(describe.out).toMatch(
      /\nversions\n {2}VERSION {2}CREATED {19}SIZE {6}SHA256\n {2}1 {8}\d{4}-\d\d-\d\dT[\d:.]+Z {2}[\d.]+ KiB {2}[0-9a-f]{12}\n/,
    );
    const described = JSON.parse((await cli('models', 'describe', 'life', '--json')).out);
    expect(described.versions.map((v: { version: string }) => v.version)).toEqual(['1', '2', '3']);
    expect(described.aliases.production).toEqual({ routes: [{ version: '3', weight: 100 }], shadow: '1' });

    const back = await cli('models', 'rollback', 'life');
    expect(back.out).toBe(
      'life: roll back promote 3 to production\n  before  3, shadow 1\n  now     2 (90%), 3 (10%), shadow 1\n',
    );
    const history = await cli('models', 'history', 'life');
    expect(history.out).toMatch(
      /^CHANGED +BY +PRODUCTION BEFORE\n.*canary 3 at 10% +latest version\n.*shadow 1 +2 \(90%\), 3 \(10%\)\n$/,
    );

    const off = await cli('models', 'shadow', 'life', '--off');
    expect(off.out).toMatch(/now {5}2 \(90%\), 3 \(10%\)\n$/);
  });

  it('deletes a version only when nothing routes to it', async () => {
    const refused = await cli('models', 'delete', 'life', '--version', '3');
    expect(refused).toMatchObject({
      code: 1,
      err: "modelgate: version 3 of 'life' is in use by alias production: point it elsewhere first\n",
    });
    const deleted = await cli('models', 'delete', 'life', '--version', '1');
    expect(deleted).toMatchObject({ code: 0, out: 'deleted life version 1\n' });
    expect((await cli('models', 'list')).out).toMatch(/\nlife +2, 3 +2 \(90%\), 3 \(10%\)\n/);
  });

  it('answers bad input to every command with a clear message and a non-zero exit', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['models', 'describe', 'nope'], 1, /model 'nope' not found/],
      [['models', 'promote', 'nope', '--version', '1'], 1, /model 'nope' not found/],
      [['models', 'promote', 'life', '--version', '9'], 1, /model 'life' has no version 9/],
      [['models', 'promote', 'life'], 2, /models promote needs --version V/],
      [
        ['models', 'canary', 'life', '--version', '3', '--weight', '150'],
        1,
        /canary weight 150 is out of range: expected a percentage from 0 to 100/,
      ],
      [['models', 'canary', 'life', '--version', '3', '--weight=-5'], 1, /out of range/],
      [
        ['models', 'canary', 'life', '--version', '3', '--weight', 'ten'],
        2,
        /--weight must be a number from 0 to 100, got 'ten'/,
      ],
      [['models', 'canary', 'life', '--version', '3'], 2, /needs --weight PERCENT/],
      [['models', 'shadow', 'life'], 2, /needs either --version V or --off/],
      [
        ['models', 'shadow', 'life', '--version', 'x'],
        1,
        /model version "x" is invalid: expected a positive integer/,
      ],
      [['models', 'rollback', 'nope'], 1, /model 'nope' has no earlier production routing/],
      [['models', 'delete', 'life', '--version', '7'], 1, /model 'life' has no version 7/],
      [['models', 'delete', 'life'], 2, /needs --version V/],
      [['models', 'history'], 2, /needs exactly one model name/],
      [['models', 'push', model('iris')], 2, /models push needs --name NAME/],
      [
        ['models', 'push', model('iris'), '--name', 'x', '--labels', 'a,b'],
        1,
        /2 labels given but the model's probabilities output has 3 classes/,
      ],
      [['models', 'frobnicate'], 2, /unknown command 'models frobnicate'/],
      [['frobnicate'], 2, /unknown command 'frobnicate'/],
      [['--bogus'], 2, /Unknown option '--bogus'/],
    ];
    for (const [argv, code, message] of cases) {
      const result = await cli(...argv);
      expect(result.code, argv.join(' ')).toBe(code);
      expect(result.err, argv.join(' ')).toMatch(message);
      expect(result.out, argv.join(' ')).toBe('');
    }
    expect(await cli('--help')).toMatchObject({ code: 0, out: expect.stringMatching(/^Usage: modelgate/) });
  });

  it('says plainly when the local store is not running', async () => {
    const { code, err } = await runCli(['models', 'list'], { MODELGATE_S3_PORT: '1' });
    expect(code).toBe(1);
    expect(err).toMatch(
      /cannot reach the model store at http:\/\/127\.0\.0\.1:1\/modelgate: is `npm start` running\?/,
    );
  });
});
