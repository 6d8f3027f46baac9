// Peer for `npm run bench`: what a Node team writes in an afternoon — node:http and
// onnxruntime-node, one session per sample model opened at start, no keys, no metrics;
// the same `POST /v1/models/{model}/predict` contract as ModelGate. Prints `{url, pid}`.
// `staged`: the same server writing each answer in the event loop's next check phase, as
// ModelGate's gateway does (bench/ANALYSIS.md, "stages"): the answers of one turn go out together.
//
//   node bench/peers/onnx_node.mjs [plain|staged]
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import * as ort from 'onnxruntime-node';

const root = new URL('../../models/', import.meta.url);
const models = new Map();
for (const name of ['iris', 'iris-logistic', 'linear', 'diabetes']) {
  const { labels } = JSON.parse(readFileSync(new URL(`${name}/manifest.json`, root), 'utf8'));
  // One thread per run: on two cores shared with the load, onnxruntime's spinning pool only costs.
  const session = await ort.InferenceSession.create(new URL(`${name}/model.onnx`, root).pathname, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
  });
  models.set(name, { session, labels });
}

const fail = (res, status, message) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ error: message }));
};

async function predict(name, body) {
  const { session, labels } = models.get(name);
  const instances = JSON.parse(body).instances;
  const width = instances[0].length;
  const input = new ort.Tensor('float32', Float32Array.from(instances.flat()), [instances.length, width]);
  const out = await session.run({ input });
  if (!labels) return { predictions: Array.from(out.prediction.data), model_name: name, model_version: '1' };
  const p = out.probabilities.data;
  const k = labels.length;
  return {
    predictions: Array.from(out.label.data, (id) => labels[Number(id)]),
    probabilities: instances.map((_, r) => Object.fromEntries(labels.map((l, c) => [l, p[r * k + c]]))),
    model_name: name,
    model_version: '1',
  };
}

const staged = process.argv[2] === 'staged';
const answer = (res, result) => {
  const text = JSON.stringify(result);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
};

const route = /^\/v1\/models\/([^/]+)\/predict$/;
const server = createServer((req, res) => {
  const name = route.exec(req.url)?.[1];
  if (req.method !== 'POST' || !name || !models.has(name)) return fail(res, 404, 'not found');
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    predict(name, Buffer.concat(chunks).toString()).then(
      (result) => (staged ? setImmediate(answer, res, result) : answer(res, result)),
      (error) => fail(res, 400, String(error.message)),
    );
  });
});
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}`, pid: process.pid }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
