// The gateway emulator's request validator hands its parse of a JSON body to the handler, which
// takes it once instead of parsing the body again; validation messages keep API Gateway's paths.
import { afterEach, describe, expect, it } from 'vitest';
import { jsonBody, PARSED_BODIES } from '../../functions/core/http.ts';
import { type LocalGateway, type ProxyHandler, startGateway } from '../../local/gateway/gateway.ts';

let gateway: LocalGateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

describe('gateway emulator: validated bodies', () => {
  it("hands a validated JSON body's parse to the handler once; a second reading parses its own copy", async () => {
    const readings: Array<{ handed: boolean; first: unknown; second: unknown; same: boolean }> = [];
    const handler: ProxyHandler = async (event) => {
      const handed = PARSED_BODIES.has(event);
      const first = jsonBody(event, 'an object');
      const second = jsonBody(event, 'an object');
      readings.push({ handed, first, second, same: first === second });
      return { statusCode: 200, body: '{}' };
    };
    gateway = await startGateway({
      routes: [
        {
          method: 'POST',
          resource: '/checked',
          apiKeyRequired: false,
          handler,
          schema: {
            type: 'object',
            required: ['rows'],
            properties: { rows: { type: 'array', items: { type: 'array', items: { type: 'number' } } } },
          },
        },
        { method: 'POST', resource: '/unchecked', apiKeyRequired: false, handler },
      ],
      apiKeys: [],
      port: 0,
    });
    const post = (path: string, body: string) =>
      fetch(`${gateway?.url}${path}`, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
    expect((await post('/checked', '{"rows": [[1, 2]]}')).status).toBe(200);
    expect((await post('/unchecked', '{"rows": [3]}')).status).toBe(200);
    const nested = await post('/checked', '{"rows": [[1], [2, "x"]]}');
    expect(await nested.json()).toEqual({
      error:
        'invalid request body: instance type (string) does not match any allowed primitive type (allowed: ["number"]) at /rows/1/1',
    });
    const invalid = await post('/checked', '{"rows": 1}');
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({
      error:
        'invalid request body: instance type (integer) does not match any allowed primitive type (allowed: ["array"]) at /rows',
    });
    expect(readings).toEqual([
      { handed: true, first: { rows: [[1, 2]] }, second: { rows: [[1, 2]] }, same: false },
      { handed: false, first: { rows: [3] }, second: { rows: [3] }, same: false },
    ]);
  });
});
