// Child of `npm run bench` (cold start): a fresh node process imports the api
// function's bundle and answers one predict event, the model fetched from the
// bucket, with a Lambda context as the runtime passes one. Prints the answer's status; the parent
// times the whole process.
//
//   node bench/servers/cold-start.mjs BUNDLE
const { handler } = await import(process.argv[2]);
const answer = await handler(
  {
    resource: '/v1/models/{model}/predict',
    path: '/v1/models/iris/predict',
    httpMethod: 'POST',
    headers: { 'content-type': 'application/json' },
    pathParameters: { model: 'iris' },
    body: '{"instances": [[5.1, 3.5, 1.4, 0.2]]}',
    isBase64Encoded: false,
    requestContext: { requestId: 'cold' },
  },
  {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'cold',
    awsRequestId: 'cold',
    getRemainingTimeInMillis: () => 29_000,
  },
);
console.log(JSON.stringify({ statusCode: answer.statusCode }));
process.exit(0);
