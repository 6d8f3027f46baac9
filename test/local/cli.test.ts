/**
 * The modelgate CLI against the local topology: `batch` and `predict` with their errors, a canary split, sticky
 * routing and rollback seen through the API and /metrics, and `--stack` reading a CloudFormation stand-in.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../infra/config.ts';
import { freePort, listenLoopback } from '../../local/net.ts';
import { runCli, topologyEnv } from '../fixtures/cli.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

let api: TestTopology;
const dir = mkdtempSync(join(tmpdir(), 'modelgate-cli-'));
beforeAll(async () => {
  // Alias changes are seen at once: the registry caches nothing.
  api = await startTestTopology({ config: parseConfig({ api: { registryTtlSeconds: 0 } }) });
});
afterAll(() => api.close());

const localEnv = () => topologyEnv(api);

async function cli(...argv: string[]) {
  return cliWith(localEnv(), ...argv);
}

function cliWith(env: NodeJS.ProcessEnv, ...argv: string[]) {
  return runCli(argv, env);
}

describe('modelgate batch', () => {
  it('uploads with a progress bar, waits for the job and prints the summary', async () => {
    const file = join(dir, 'people.csv');
    writeFileSync(
      file,
      'age,sex,bmi,bp,s1,s2,s3,s4,s5,s6\n0.038,0.051,0.062,0.022,-0.044,-0.035,-0.043,-0.003,0.020,-0.018\n1,2,3,4,5,6,7,8,9,x\n',
    );
    const { code, out, err } = await cli('batch', 'submit', file, '--model', 'diabetes');
    expect(err).toMatch(/uploading \[#{30}\] 0\.1\/0\.1 KB/);
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

describe('modelgate predict', () => {
  it('predicts rows given inline or in a JSON Lines file, as a table or JSON', async () => {
    const table = await cli('predict', 'iris', '--data', '[[5.1, 3.5, 1.4, 0.2], [6.7, 3.1, 5.6, 2.4]]');
    expect(table).toMatchObject({ code: 0, err: '' });
    expect(table.out).toMatch(
      /^ROW {2}PREDICTION {2}PROBABILITY\n1 {4}setosa {6}\d\.\d{3}\n2 {4}virginica {3}\d\.\d{3}\nmodel iris version 1\n$/,
    );

    const file = join(dir, 'rows.jsonl');
    writeFileSync(file, `${Array.from({ length: 1200 }, (_, i) => JSON.stringify([i / 100])).join('\n')}\n`);
    const json = await cli('predict', 'linear', '--file', file, '--json');
    const answer = JSON.parse(json.out);
    expect(answer.predictions).toHaveLength(1200);
    expect(answer).toMatchObject({ model_name: 'linear', model_version: '1' });
  });

  it('answers bad input with the API message or what was expected', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['predict', 'iris'], 2, /needs either --data/],
      [['predict', 'iris', '--data', '[[1,2'], 2, /--data is not JSON/],
      [['predict', 'iris', '--data', '{}'], 2, /non-empty JSON array of instances/],
      [
        ['predict', 'iris', '--data', '[[1, 2]]'],
        1,
        /^modelgate: HTTP 400: instance 0 has 2 values; model 'iris' expects each instance to be an array of 4/,
      ],
      [['predict', 'nope', '--data', '[[1]]'], 1, /^modelgate: HTTP 404: model 'nope' not found/],
      [['predict', 'iris', '--file', '/nonexistent.jsonl'], 1, /cannot read \/nonexistent\.jsonl/],
    ];
    for (const [argv, code, message] of cases) {
      const result = await cli(...argv);
      expect(result.code, argv.join(' ')).toBe(code);
      expect(result.err, argv.join(' ')).toMatch(message);
    }
    const wrongKey = await cliWith(
      { ...localEnv(), MODELGATE_API_KEY: 'wrong' },
      'predict',
      'iris',
      '--data',
      '[[1,2,3,4]]',
    );
    expect(wrongKey).toMatchObject({ code: 1, err: 'modelgate: HTTP 403: Forbidden\n' });
    const down = await cliWith(
      { ...localEnv(), MODELGATE_PORT: String(await freePort()) },
      'predict',
      'iris',
      '--data',
      '[[1,2,3,4]]',
    );
    expect(down.err).toMatch(/cannot reach the API at http:\/\/127\.0\.0\.1:\d+: is `npm start` running\?/);
  });
});

describe('canary, sticky routing, rollback and metrics through the API', () => {
  const served = async (count: number, headers: (i: number) => Record<string, string> = () => ({})) => {
    const versions: Record<string, number> = {};
    const one = async (i: number) => {
      const r = await api.call('/v1/models/routed/predict', {
        body: { instances: [[1, 2, 3, 4]] },
        headers: headers(i),
      });
      expect(r.status).toBe(200);
      const version = r.headers.get('x-modelgate-model-version') as string;
      expect(r.json.model_version).toBe(version);
      versions[version] = (versions[version] ?? 0) + 1;
    };
    for (let i = 0; i < count; i += 16)
      await Promise.all(Array.from({ length: Math.min(16, count - i) }, (_, j) => one(i + j)));
    return versions;
  };

  it('splits traffic by weight within statistical bounds, keeps a route key on one version, and rolls back', async () => {
    const iris = new URL('../../models/iris/model.onnx', import.meta.url).pathname;
    for (let i = 0; i < 2; i++) expect((await cli('models', 'push', iris, '--name', 'routed')).code).toBe(0);
    expect((await cli('models', 'canary', 'routed', '--version', '2', '--weight', '30')).code).toBe(0);

    const n = 1000;
    const split = await served(n);
    // Binomial(1000, 0.3): mean 300, sd 14.5; 5 sd either side fails by chance once in 3.5 million runs.
    expect((split['1'] ?? 0) + (split['2'] ?? 0)).toBe(n);
    expect(split['2']).toBeGreaterThan(300 - 5 * 14.5);
    expect(split['2']).toBeLessThan(300 + 5 * 14.5);

    const sticky = await served(40, () => ({ 'x-modelgate-route-key': 'customer-42' }));
    expect(Object.keys(sticky)).toHaveLength(1);
    const keyed = await served(400, (i) => ({ 'x-modelgate-route-key': `customer-${i}` }));
    expect(keyed['2']).toBeGreaterThan(400 * 0.3 - 5 * Math.sqrt(400 * 0.21));
    expect(keyed['2']).toBeLessThan(400 * 0.3 + 5 * Math.sqrt(400 * 0.21));

    expect((await cli('models', 'promote', 'routed', '--version', '2')).code).toBe(0);
    expect(await served(32)).toEqual({ '2': 32 });
    expect((await cli('models', 'rollback', 'routed')).code).toBe(0);
    const back = await served(200);
    expect(back['2']).toBeGreaterThan(10);
    expect(back['1']).toBeGreaterThan(100);

    const metrics = await (await fetch(`${api.apiUrl}/metrics`)).text();
    const count = (version: string) =>
      Number(
        new RegExp(
          `modelgate_requests_total\\{model="routed",version="${version}",code="200"\\} (\\d+)`,
        ).exec(metrics)?.[1],
      );
    expect(count('1') + count('2')).toBe(n + 40 + 400 + 32 + 200);
    expect(metrics).toMatch(
      /modelgate_gateway_requests_total\{method="POST",resource="\/v1\/models\/\{model\}\/predict",code="200"\} \d+/,
    );
    // Both versions' forests run as compiled trees, checked against onnxruntime after their first answers.
    expect(metrics).toMatch(
      /^modelgate_tree_compiles_total\{model="routed",version="1",result="compiled"\} 1$/m,
    );
    expect(metrics).toMatch(
      /^modelgate_tree_compiles_total\{model="routed",version="2",result="compiled"\} 1$/m,
    );
  });
});

describe('modelgate --stack', () => {
  it('reads the API URL and bucket from the stack outputs in CloudFormation', async () => {
    const cloudformation = await startCloudFormation({
      ModelGate: { ApiUrl: `${api.apiUrl}/`, ModelBucketName: api.bucket },
    });
    const env = {
      AWS_ENDPOINT_URL_CLOUDFORMATION: cloudformation.url,
      AWS_ENDPOINT_URL_S3: api.s3Url,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      MODELGATE_API_KEY: api.apiKey,
    };
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    try {
      const listed = await cliWith(process.env, 'models', 'list', '--stack', 'ModelGate', '--json');
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.out).map((m: { name: string }) => m.name)).toContain('iris');
      const predicted = await cliWith(
        process.env,
        'predict',
        'linear',
        '--stack',
        'ModelGate',
        '--data',
        '[[2]]',
        '--json',
      );
      expect(JSON.parse(predicted.out)).toMatchObject({
        model_name: 'linear',
        predictions: [expect.any(Number)],
      });
      const missing = await cliWith(process.env, 'models', 'list', '--stack', 'Nope');
      expect(missing).toMatchObject({
        code: 1,
        err: 'modelgate: cannot read the outputs of stack Nope: Stack with id Nope does not exist\n',
      });
    } finally {
      vi.unstubAllEnvs();
      await cloudformation.close();
    }
  });
});

/** CloudFormation's query API on loopback, answering DescribeStacks for the given stacks' outputs. */
async function startCloudFormation(stacks: Record<string, Record<string, string>>) {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const name = form.get('StackName') ?? '';
      const outputs = stacks[name];
      res.setHeader('content-type', 'text/xml');
      if (form.get('Action') !== 'DescribeStacks' || !outputs) {
        res.statusCode = 400;
        return res.end(
          `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id ${name} does not exist</Message></Error><RequestId>1</RequestId></ErrorResponse>`,
        );
      }
      const members = Object.entries(outputs)
        .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`)
        .join('');
      res.end(
        `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member><StackName>${name}</StackName><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/${name}/1</StackId><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus><Outputs>${members}</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></DescribeStacksResponse>`,
      );
    });
  });
  return listenLoopback(server, 0);
}
