/**
 * `npm start`: the whole ModelGate topology on loopback, configured by `modelgate.config.json` and the
 * MODELGATE_* variables, until Ctrl-C.
 */
import { loadConfig } from '../infra/config.ts';
import { batchedLines } from './net.ts';
import { PortInUseError } from './ports.ts';
import { type LocalTopology, localOptionsFromEnv, startLocal } from './topology.ts';

/** `npm start`: ModelGate on loopback until Ctrl-C. */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const configPath = process.env.MODELGATE_CONFIG || 'modelgate.config.json';
const quiet = process.env.MODELGATE_ACCESS_LOG === 'off';
let topology: LocalTopology;
try {
  topology = await startLocal({
    ...localOptionsFromEnv(loadConfig(configPath)),
    ...(!quiet && { accessLog: batchedLines(process.stdout) }),
  });
} catch (error) {
  // A taken port is a situation, not a bug: one line saying which and what to do.
  if (!(error instanceof PortInUseError)) throw error;
  console.error(error.message);
  process.exit(1);
}
const { apiUrl, apiKey } = topology;

console.log(`ModelGate is running locally.

  API       ${apiUrl}
  API key   ${apiKey}
  console   ${apiUrl}/console (sign in with the key)
  reference ${apiUrl}/docs (OpenAPI 3.1: ${apiUrl}/openapi.json)
  metrics   ${apiUrl}/metrics (Prometheus)
  S3        ${topology.s3Url} (bucket '${topology.bucket}')
  DynamoDB  ${topology.dynamoUrl} (usage per API key: GET /v1/usage, npm run modelgate -- usage)${topology.sagemakerUrl ? `\n  SageMaker ${topology.sagemakerUrl} (large models: ${topology.largeModels.join(', ')})` : ''}
  seeded    ${topology.seeded.length === 0 ? 'nothing new' : topology.seeded.map((m) => `${m.name} v${m.version}`).join(', ')}

Try:
  curl -s ${apiUrl}/v1/models/iris/predict -H 'x-api-key: ${apiKey}' -H 'Content-Type: application/json' \\
    -d '{"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.1, 5.6, 2.4]]}'
  curl -s ${apiUrl}/v2/models/linear/infer -H 'x-api-key: ${apiKey}' -H 'Content-Type: application/json' \\
    -d '{"inputs": [{"name": "input", "shape": [2, 1], "datatype": "FP32", "data": [1.0, 2.0]}]}'

The other sample models:
  curl -s ${apiUrl}/v1/models/iris-logistic/predict -H 'x-api-key: ${apiKey}' -H 'Content-Type: application/json' \\
    -d '{"instances": [[5.9, 3.0, 4.2, 1.5]]}'
  curl -s ${apiUrl}/v1/models/diabetes/predict -H 'x-api-key: ${apiKey}' -H 'Content-Type: application/json' \\
    -d '{"instances": [[0.038, 0.051, 0.062, 0.022, -0.044, -0.035, -0.043, -0.003, 0.020, -0.018]]}'

${
  topology.sagemakerUrl
    ? `Chat with the demo language model (OpenAI-compatible, streaming; it writes fortune-flavoured gibberish):
  curl -sN ${apiUrl}/v1/chat/completions -H 'Authorization: Bearer ${apiKey}' -H 'Content-Type: application/json' \\
    -d '{"model": "demo-lm", "messages": [{"role": "user", "content": "Tell me my fortune"}], "max_tokens": 60, "stream": true}'

`
    : ''
}Ctrl-C stops it.`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: shutting down`);
  await topology.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
