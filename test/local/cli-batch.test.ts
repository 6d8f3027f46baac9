import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../cli/main.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

let api: TestTopology;
const dir = mkdtempSync(join(tmpdir(), 'modelgate-cli-'));
beforeAll(async () => {
  api = await startTestTopology();
});
afterAll(() => api.close());

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const env = { MODELGATE_S3_PORT: String(api.store.port), MODELGATE_BUCKET: api.bucket };
  const code = await run(argv, {
    out: { write: (s: string) => (out += s) },
    err: { write: (s: string) => (err += s) },
    env,
  });
  return { code, out, err };
}

describe('modelgate batch', () => {
  it('uploads with a progress bar, waits for the job and prints the summary', async () => {
    const file = join(dir, 'people.csv');
    writeFileSync(
      file,
      'age,sex,bmi,bp,s1,s2,s3,s4,s5,s6\n0.038,0.051,0.062,0.022,-0.044,-0.035,-0.043,-0.003,0.020,-0.018\n1,2,3,4,5,6,7,8,9,x\n',
    );
    const { code, out, err } = await cli('batch', 'submit', file, '--model', 'diabetes');
    expect(err).toMatch(/uploading \[#{30}\] 0\.0\/0\.0 MB/);
    expect(code).toBe(3);
    expect(out).toMatch(/status {3}completed_with_errors\n/);
    expect(out).toMatch(/output {3}batch\/output\/diabetes\/people\.csv\.jsonl\n/);
    expect(out).toMatch(/model {4}diabetes version 1\nrows {5}2 \(1 predicted, 1 with errors\)/);
  });

  it('keeps --json output clean while progress goes to stderr, and reads status by id', async () => {
    const file = join(dir, 'ok.jsonl');
    writeFileSync(file, '[1]\n[2]\n');
    const submitted = await cli('batch', 'submit', file, '--model', 'linear', '--json');
    expect(submitted.code).toBe(0);
    const view = JSON.parse(submitted.out);
    expect(view).toMatchObject({ status: 'succeeded', manifest: { rows: 2, model: 'linear' } });
    const status = await cli('batch', 'status', view.id, '--json');
    expect(JSON.parse(status.out)).toEqual(view);
  });

  it('explains mistakes with non-zero exit codes', async () => {
    expect(await cli('batch', 'submit', join(dir, 'missing.csv'), '--model', 'linear')).toMatchObject({
      code: 1,
      err: expect.stringMatching(/cannot read .*missing\.csv/),
    });
    expect(await cli('batch', 'submit', join(dir, 'ok.jsonl'))).toMatchObject({
      code: 2,
      err: expect.stringMatching(/--model NAME/),
    });
    expect(await cli('batch', 'status', 'bm9wZQ')).toMatchObject({
      code: 1,
      err: "modelgate: no batch job 'bm9wZQ'\n",
    });
    const unknown = join(dir, 'x.jsonl');
    writeFileSync(unknown, '[1]\n');
    const failed = await cli('batch', 'submit', unknown, '--model', 'ghost');
    expect(failed.code).toBe(1);
    expect(failed.out).toMatch(/error {4}unknown model: model 'ghost' not found/);
  });
});
