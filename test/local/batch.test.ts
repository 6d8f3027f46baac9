/**
 * Batch predictions on the local topology: files dropped in S3 (JSONL, CSV, gzip) scored as the framework
 * predicts, every bad or empty input accounted for, and jobs through /v1/batches.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropBatchFile, objectText, putObject, settledManifest } from '../fixtures/batch.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';
import { parityFixture } from '../fixtures/models.ts';

let api: TestTopology;
beforeAll(async () => {
  api = await startTestTopology();
});
afterAll(() => api.close());

/** Drops a file where data teams drop theirs and waits for the job to settle. */
const drop = (file: string, body: string | Uint8Array) => dropBatchFile(api, file, body);

describe('batch predictions from files dropped in S3', () => {
  it('scores every diabetes row of a JSONL file as scikit-learn does, in input order', async () => {
    const fixture = parityFixture('diabetes');
    const { manifest, lines } = await drop(
      'diabetes/all.jsonl',
      `${fixture.instances.map((r) => JSON.stringify(r)).join('\n')}\n`,
    );
    expect(manifest).toMatchObject({
      status: 'succeeded',
      model: 'diabetes',
      version: '1',
      rows: 442,
      succeeded: 442,
      failed: 0,
    });
    expect(lines.map((l) => l.line)).toEqual(fixture.instances.map((_, i) => i + 1));
    lines.forEach((l, i) => {
      expect(l.prediction).toBeCloseTo(fixture.predictions[i] as number, 3);
    });
  });

  it('maps CSV columns by feature name, with Windows line endings, and labels classifiers', async () => {
    const fixture = parityFixture('iris');
    const csv = [
      'petal_width,sepal_length,id,sepal_width,petal_length',
      ...fixture.instances.map(([sl, sw, pl, pw], i) => `${pw},${sl},row${i},${sw},${pl}`),
    ];
    const { manifest, lines } = await drop('iris/flowers.csv', `${csv.join('\r\n')}\r\n`);
    expect(manifest).toMatchObject({ status: 'succeeded', rows: 150 });
    expect(lines.map((l) => l.prediction)).toEqual(fixture.predictions);
    expect(lines[0]).toMatchObject({ line: 2, probabilities: { setosa: expect.any(Number) } });
  });

  it('reads gzip transparently and maps columns by position when the model has no feature names', async () => {
    const { manifest, lines } = await drop('linear/x.csv.gz', gzipSync('x\n1\n2\n'));
    expect(manifest.status).toBe('succeeded');
    expect(lines.map((l) => Math.round(l.prediction * 100) / 100)).toEqual([3.49, 6.43]);
  });

  it('answers every bad line with an error line and loses none', async () => {
    const body = [
      '[5.1, 3.5, 1.4, 0.2]',
      'not json',
      '[1, 2]',
      '[1, 2, "three", 4]',
      '',
      '{"sepal_length": 1}',
      '{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [[6.7, 3.1, 5.6, 2.4]]}]}',
    ];
    const { manifest, lines } = await drop('iris/mixed.jsonl', `${body.join('\n')}\n`);
    expect(manifest).toMatchObject({
      status: 'completed_with_errors',
      rows: 6,
      succeeded: 2,
      failed: 4,
      blankLines: 1,
    });
    expect(lines).toEqual([
      expect.objectContaining({ line: 1, prediction: 'setosa' }),
      { line: 2, error: expect.stringMatching(/^not JSON/) },
      {
        line: 3,
        error: '2 values; the model expects 4 (sepal_length, sepal_width, petal_length, petal_width)',
      },
      { line: 4, error: 'value 2 (petal_length) is "three": expected a number' },
      { line: 6, error: "missing feature 'sepal_width', 'petal_length', 'petal_width'" },
      expect.objectContaining({ line: 7, prediction: 'virginica' }),
    ]);
  });

  it('refuses a CSV record with more or fewer fields than the header, line by line, as pandas does', async () => {
    const body = [
      'id,sepal_length,sepal_width,petal_length,petal_width',
      'a,5.1,3.5,1.4,0.2',
      // An unquoted comma in the id shifts every value after it: refused, not scored shifted.
      'b,x,6.7,3.1,5.6,2.4',
      '"b,x",6.7,3.1,5.6,2.4',
      'c,6.3,2.9,5.6',
      'd,5.1,3.5,1.4,0.2,',
    ];
    const { manifest, lines } = await drop('iris/fields.csv', `${body.join('\n')}\n`);
    expect(manifest).toMatchObject({ status: 'completed_with_errors', rows: 5, succeeded: 2, failed: 3 });
    expect(lines).toEqual([
      expect.objectContaining({ line: 2, prediction: 'setosa' }),
      { line: 3, error: '6 fields; the header has 5' },
      expect.objectContaining({ line: 4, prediction: 'virginica' }),
      { line: 5, error: '4 fields; the header has 5' },
      { line: 6, error: '6 fields; the header has 5' },
    ]);
  });

  it('reads a quoted field with line breaks as one record, numbered by its first line; an unclosed quote is one error', async () => {
    const body = [
      'note,sepal_length,sepal_width,petal_length,petal_width',
      '"two lines,',
      'of text",5.1,3.5,1.4,0.2',
      // Inside quotes, a line of plain numbers and a blank line are text, not rows.
      '"three',
      '1,2,3,4',
      '',
      'lines",6.7,3.1,5.6,2.4',
      'plain,6.3,2.9,5.6,1.8',
      '"never closed,5.1,3.5,1.4,0.2',
      'last,5.1,3.5,1.4,0.2',
    ];
    const { manifest, lines } = await drop('iris/notes.csv', `${body.join('\r\n')}\r\n`);
    expect(manifest).toMatchObject({ status: 'completed_with_errors', rows: 4, succeeded: 3, failed: 1 });
    expect(lines).toEqual([
      expect.objectContaining({ line: 2, prediction: 'setosa' }),
      expect.objectContaining({ line: 4, prediction: 'virginica' }),
      expect.objectContaining({ line: 8, prediction: 'virginica' }),
      { line: 9, error: 'a quoted field opened on line 9 is not closed (lines 9-10); close its quotes' },
    ]);
  });

  it('gives up on an unclosed quote after 1 MiB of text, as one error, and reads on', async () => {
    const filler = Array.from({ length: 1100 }, () => 'x'.repeat(1000));
    const body = [
      'note,sepal_length,sepal_width,petal_length,petal_width',
      '"open',
      ...filler,
      'a,5.1,3.5,1.4,0.2',
    ];
    const { manifest, lines } = await drop('iris/unclosed.csv', `${body.join('\n')}\n`);
    expect(manifest).toMatchObject({ succeeded: 1, failed: manifest.rows - 1 });
    expect(lines[0]).toEqual({
      line: 2,
      error: expect.stringMatching(
        /^a quoted field opened on line 2 is not closed \(lines 2-\d+\); close its quotes$/,
      ),
    });
    // After the 1 MiB, each line is read again as its own record: the filler is refused line by line, the last row scored.
    expect(lines.at(-1)).toEqual(expect.objectContaining({ line: body.length, prediction: 'setosa' }));
    expect(lines.length).toBe(manifest.rows);
    for (const line of lines.slice(1, -1)) expect(line.error).toBe('1 fields; the header has 5');
  });

  it.each([
    ['a 0-byte object', 'iris/empty.jsonl', '', 'the input has no rows'],
    ['a file of blank lines', 'iris/blank.jsonl', '\n\r\n  \n', 'the input has no rows'],
    [
      'a header-only CSV',
      'iris/header.csv',
      'sepal_length,sepal_width,petal_length,petal_width\n',
      'the CSV has a header but no rows',
    ],
  ])('says so for %s', async (_, file, body, reason) => {
    const { manifest, lines } = await drop(file, body);
    expect(manifest).toMatchObject({ status: 'empty', rows: 0, error: reason });
    expect(lines).toEqual([]);
  });

  it.each([
    ['an unknown model', 'ghost/x.jsonl', '[1]\n', /unknown model: model 'ghost' not found/],
    [
      'a key outside the layout',
      'stray.jsonl',
      '[1]\n',
      /is outside the layout: expected batch\/input\/<model>\/<file>/,
    ],
    [
      'an unsupported format',
      'iris/notes.txt',
      'hello\n',
      /no supported format: expected \.jsonl, \.ndjson, \.json or \.csv/,
    ],
    [
      'a CSV without the features',
      'iris/bad-header.csv',
      'a,b\n1,2\n',
      /the CSV header lacks 'sepal_length'/,
    ],
  ])('fails the job for %s, with the reason in the manifest', async (_, file, body, error) => {
    const { manifest } = await drop(file, body);
    expect(manifest.status).toBe('failed');
    expect(manifest.error).toMatch(error);
  });

  it('keeps the rows before a truncated gzip and fails the job saying where', async () => {
    // Varied rows, so the first half of the stream already holds whole lines.
    const whole = gzipSync(
      Array.from({ length: 20_000 }, (_, i) => `[${(i * 7919) % 10007}.${i}]`).join('\n'),
    );
    const { manifest, lines } = await drop(
      'linear/cut.jsonl.gz',
      whole.subarray(0, Math.floor(whole.length / 2)),
    );
    expect(manifest.status).toBe('failed');
    expect(manifest.error).toMatch(
      /the input is not valid gzip after line \d+: .*; rows before it were scored/,
    );
    expect(manifest.rows).toBeGreaterThan(0);
    expect(lines.length).toBe(manifest.rows);
    expect(lines.every((l) => typeof l.prediction === 'number')).toBe(true);
  });

  it('does nothing the second time for the same input object', async () => {
    const first = await drop('linear/again.jsonl', '[1]\n[2]\n');
    const queueSend = api.batchQueue.send(
      JSON.stringify({
        Records: [
          {
            eventName: 'ObjectCreated:Put',
            s3: {
              object: { key: 'batch/input/linear/again.jsonl', eTag: first.manifest.input.eTag, size: 8 },
            },
          },
        ],
      }),
    );
    expect(queueSend).toEqual(expect.any(String));
    await api.batchQueue.drained();
    const second = JSON.parse(
      (await objectText(api.s3, api.bucket, 'batch/output/linear/again.jsonl.manifest.json')) ?? 'null',
    );
    expect(second).toEqual(first.manifest);
  });
});

describe('batch jobs through the API', () => {
  it("starts a job over a file under the key's prefix and reports its status until it is done", async () => {
    await putObject(api, 'batch/keys/default/uploads/rows.jsonl', '[1]\n[2]\n');
    const submitted = await api.call('/v1/batches', {
      body: { model: 'linear', input: 'uploads/rows.jsonl' },
    });
    expect(submitted.status).toBe(202);
    expect(submitted.json).toMatchObject({
      id: expect.stringMatching(/^batch_[A-Za-z0-9_-]{32}$/),
      object: 'batch',
      status: 'queued',
      input: 'batch/keys/default/uploads/rows.jsonl',
      output: `batch/output/linear/jobs/${submitted.json.id}/rows.jsonl.jsonl`,
    });
    await settledManifest(api, `linear/jobs/${submitted.json.id}/rows.jsonl`);
    const status = await api.call(`/v1/batches/${submitted.json.id}`);
    expect(status.json).toMatchObject({
      id: submitted.json.id,
      status: 'succeeded',
      manifest: { id: submitted.json.id, rows: 2, model: 'linear' },
    });
  });

  it('answers bad submissions and unknown jobs clearly', async () => {
    expect(await api.call('/v1/batches', { body: { model: 'linear' } })).toMatchObject({
      status: 400,
      json: { error: 'invalid request body: object has missing required properties (["input"]) at /' },
    });
    for (const input of [
      'batch/input/linear/rows.jsonl',
      'models/../../../input/linear/rows.jsonl',
      '../other/rows.jsonl',
    ]) {
      const answer = await api.call('/v1/batches', { body: { model: 'linear', input } });
      expect(answer.status).toBe(400);
      expect(answer.json.error).toMatch(/"input" must name a file under your prefix batch\/keys\/default\//);
    }
    expect((await api.call('/v1/batches', { body: { model: 'linear', input: 'model.onnx' } })).json).toEqual({
      error:
        "file 'model.onnx' has no supported format: expected .jsonl, .ndjson, .json or .csv, optionally .gz",
    });
    expect(await api.call('/v1/batches', { body: { model: 'linear', input: 'none.jsonl' } })).toMatchObject({
      status: 404,
      json: { error: 'no object batch/keys/default/none.jsonl: upload the file to your prefix first' },
    });
    expect(await api.call('/v1/batches/bm9wZQ')).toMatchObject({
      status: 404,
      json: { error: "no batch job 'bm9wZQ'" },
    });
  });
});
