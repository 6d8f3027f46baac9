/**
 * Chat with a large model whose container (the test's own) answers garbage or hangs, behind the local topology's
 * SageMaker Runtime emulator: 502s and stream error events that say why, never a crash or a stuck request.
 */
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../infra/config.ts';
import { loopbackUrl, testContainer } from '../fixtures/containers.ts';
import { startTestTopology, type TestTopology } from '../fixtures/local.ts';

/**
 * A model container that misbehaves on request, behind the real SageMaker
 * Runtime emulator: it answers garbage when the prompt says "garbage", and
 * never answers when it says "hang" (SageMaker then gives up after its
 * invocation timeout, here shortened to 1 s).
 */
let api: TestTopology;
let container: Server;
let open = 0;

function misbehaving(): Promise<Server> {
  return testContainer((body, req, res) => {
    if (body.includes('hang')) {
      open++;
      req.socket.on('close', () => open--);
      return; // never answers
    }
    res.writeHead(200, {
      'Content-Type': body.includes('"stream":true') ? 'text/event-stream' : 'application/json',
    });
    res.end('\u0000\u0001 this is not what a model server says {[');
  });
}

beforeAll(async () => {
  container = await misbehaving();
  const config = parseConfig({
    largeModels: [
      {
        name: 'broken-llm',
        container: 'tgi',
        hfModelId: 'org/model',
        instanceType: 'ml.g5.xlarge',
        localUrl: loopbackUrl(container),
      },
    ],
  });
  api = await startTestTopology({ config, languageModels: true, sagemakerInvocationTimeoutMs: 1000 });
}, 90_000);
afterAll(async () => {
  await api.close();
  container.close();
});

const chat = (content: string, stream = false) =>
  api.call('/v1/chat/completions', {
    body: { model: 'broken-llm', messages: [{ role: 'user', content }], max_tokens: 8, stream },
  });

describe('a model container that misbehaves', () => {
  it('answering garbage: 502 with an OpenAI error that says so, never a crash', async () => {
    const answer = await chat('garbage please');
    expect(answer.status).toBe(502);
    expect(answer.json.error.message).toMatch(/not JSON/);
    expect(answer.json.error.type).toBe('api_error');
  });

  it('answering garbage to a streamed request: the stream ends with an error event and [DONE]', async () => {
    const response = await fetch(`${api.apiUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': api.apiKey },
      body: JSON.stringify({
        model: 'broken-llm',
        messages: [{ role: 'user', content: 'garbage' }],
        max_tokens: 8,
        stream: true,
      }),
    });
    const text = await response.text();
    if (response.status === 200) {
      expect(text).toMatch(/data: \{"error":\{"message":"[^"]+/);
      expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    } else {
      expect(response.status).toBe(502);
      expect(JSON.parse(text).error.message.length).toBeGreaterThan(0);
    }
  });

  it('hanging past the invocation timeout: 502 that names the timeout, and the container request is dropped', async () => {
    const started = Date.now();
    const answer = await chat('hang forever');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(answer.status).toBe(502);
    expect(answer.json.error.message).toMatch(/timed out/);
    await vi.waitFor(() => expect(open).toBe(0), { timeout: 2_000, interval: 20 });
  });

  it('serves the next request as usual after a garbage answer', async () => {
    expect((await chat('garbage again')).status).toBe(502);
    const models = await api.call('/v1/models');
    expect(models.status).toBe(200);
    expect(models.json.data.map((m: { id: string }) => m.id)).toContain('broken-llm');
  });
});
