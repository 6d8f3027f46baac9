/** Benchmark `gateway` (table row 7): the latency the gateway emulator adds per request. */
import { Agent, request } from 'node:http';
import type { Lab } from '../lib/lab.ts';
import { median } from '../lib/process.ts';
import { fmt, limitRow, type Row } from '../lib/report.ts';
import { IRIS_ROW, predictBody } from '../lib/requests.ts';

/**
 * 7: what the gateway emulator adds per request: sequential keep-alive
 * requests through it, less the same requests to the bare server (client and
 * loopback cost), less the handler's own in-process time.
 */
export async function gateway(lab: Lab): Promise<Row[]> {
  const api = await lab.modelgate();
  const ceiling = await lab.ceiling();
  const n = lab.options.quick ? 300 : 5000;
  const viaGateway: number[] = [];
  const bare: number[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  for (let round = 0; round < (lab.options.quick ? 1 : 5); round++) {
    viaGateway.push(
      await sequentialP50(`${api.url}/v1/models/iris/predict`, { 'x-api-key': api.apiKey }, n, agent),
    );
    bare.push(await sequentialP50(`${ceiling.url}/v1/models/iris/predict`, {}, n, agent));
  }
  agent.destroy();
  const added = median(viaGateway) - median(bare) - api.handlerUs.p50 / 1000;
  return [
    {
      ...limitRow(
        {
          id: '7',
          measurement:
            'gateway emulator, added latency per request, p50 (through it, less bare server, less handler)',
          ours: added,
          unit: 'ms',
          digits: 3,
          peer: `${fmt(median(viaGateway), 3)} ms through it, ${fmt(median(bare), 3)} ms bare, handler ${fmt(api.handlerUs.p50 / 1000, 3)} ms`,
        },
        0.3,
      ),
    },
  ];
}

/** Median ms of `n` sequential iris predicts to `url` on one keep-alive socket, after a warm-up. */
function sequentialP50(
  url: string,
  headers: Record<string, string>,
  n: number,
  agent: Agent,
): Promise<number> {
  const body = predictBody(IRIS_ROW);
  const one = () =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            ...headers,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200
              ? resolve(performance.now() - started)
              : reject(new Error(`${url}: ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  return (async () => {
    for (let i = 0; i < Math.min(500, n); i++) await one();
    const samples: number[] = [];
    for (let i = 0; i < n; i++) samples.push(await one());
    return median(samples);
  })();
}
