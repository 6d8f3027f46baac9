#!/usr/bin/env tsx
/**
 * The `modelgate` command. Local mode by default (the same MODELGATE_*
 * variables as `npm start`); `--bucket NAME` targets a deployed model bucket
 * with credentials from the standard AWS chain.
 *
 *   npm run modelgate -- models push model.onnx --name iris --labels setosa,versicolor,virginica
 *   npm run modelgate -- models list
 */
import { run } from './main.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.exitCode = await run(process.argv.slice(2), {
  out: process.stdout,
  err: process.stderr,
  env: process.env,
});
