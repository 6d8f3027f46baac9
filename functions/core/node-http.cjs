// node:http for the functions' bundles (esbuild aliases `http` and `node:http` here): a bundled ESM
// `import … from 'node:http'` makes Node 24 build the module's ESM facade, which reads its lazy
// WebSocket getters and loads undici (about 25 ms of every cold start); taken as CommonJS it does not.
module.exports = process.getBuiltinModule('node:http');
