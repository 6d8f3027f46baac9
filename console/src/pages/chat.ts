/**
 * Chat playground: streams a chat completion token by token (server-sent
 * events), can be stopped, shows tokens/s and the usage the model reports.
 */
import { base, call, errorMessage, headers } from '../api.ts';
import { errorBox, h, replace } from '../dom.ts';

interface Chunk {
  choices?: { delta?: { content?: string | null } }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

function numberField(id: string, label: string, value: string, min: string, max: string, step: string) {
  const input = h('input', { attrs: { id, type: 'number', value, min, max, step } });
  return { input, element: h('div', {}, h('label', { attrs: { for: id } }, label), input) };
}

export function chatPage(main: HTMLElement): () => void {
  let controller: AbortController | undefined;
  const select = h('select', { attrs: { id: 'chat-model' } });
  const prompt = h('textarea', { attrs: { id: 'chat-prompt', rows: '3', required: '' } });
  const temperature = numberField('chat-temperature', 'Temperature', '0.7', '0', '2', '0.1');
  const maxTokens = numberField('chat-max-tokens', 'Max tokens', '64', '1', '4096', '1');
  const output = h('div', { class: 'chat-output', attrs: { 'aria-live': 'polite', 'aria-label': 'Answer' } });
  const stats = h('p', { class: 'stats', attrs: { 'aria-live': 'polite' } });
  const send = h('button', { attrs: { type: 'submit' } }, 'Send');
  const stop = h(
    'button',
    { attrs: { type: 'button', disabled: '' }, on: { click: () => controller?.abort() } },
    'Stop',
  );

  const run = async () => {
    controller = new AbortController();
    send.setAttribute('disabled', '');
    stop.removeAttribute('disabled');
    replace(output);
    replace(stats, 'Waiting for the first token…');
    const started = performance.now();
    let first: number | undefined;
    let tokens = 0;
    let usage: Chunk['usage'];
    try {
      const response = await fetch(new URL('v1/chat/completions', base), {
        method: 'POST',
        headers: headers(true),
        signal: controller.signal,
        body: JSON.stringify({
          model: select.value,
          messages: [{ role: 'user', content: prompt.value }],
          temperature: Number(temperature.input.value),
          max_tokens: Number(maxTokens.input.value),
          stream: true,
          stream_options: { include_usage: true },
        }),
      });
      if (!response.ok || !response.body) {
        const text = await response.text();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {}
        throw new Error(errorMessage(body, response.status));
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += value;
        const events = buffer.split('\n\n');
        buffer = events.pop() ?? '';
        for (const event of events) {
          const data = event.replace(/^data: ?/, '');
          if (data === '[DONE]' || !event.startsWith('data:')) continue;
          const chunk = JSON.parse(data) as Chunk;
          const text = chunk.choices?.[0]?.delta?.content;
          if (text) {
            first ??= performance.now();
            tokens += 1;
            output.append(document.createTextNode(text));
          }
          if (chunk.usage) usage = chunk.usage;
        }
        const seconds = (performance.now() - (first ?? started)) / 1000;
        replace(stats, `${tokens} tokens, ${(tokens / Math.max(seconds, 0.001)).toFixed(1)} tokens/s`);
      }
      const seconds = (performance.now() - (first ?? started)) / 1000;
      replace(
        stats,
        `${tokens} tokens, ${(tokens / Math.max(seconds, 0.001)).toFixed(1)} tokens/s, first token after ${Math.round((first ?? performance.now()) - started)} ms`,
        usage
          ? ` · usage: ${usage.prompt_tokens} prompt + ${usage.completion_tokens} completion = ${usage.total_tokens} tokens`
          : '',
      );
    } catch (error) {
      if ((error as Error).name === 'AbortError') replace(stats, `Stopped after ${tokens} tokens.`);
      else replace(stats, errorBox((error as Error).message));
    } finally {
      send.removeAttribute('disabled');
      stop.setAttribute('disabled', '');
      controller = undefined;
    }
  };

  replace(
    main,
    h('h1', {}, 'Chat'),
    h(
      'form',
      {
        class: 'chat',
        on: {
          submit: (event) => {
            event.preventDefault();
            void run();
          },
        },
      },
      h('div', {}, h('label', { attrs: { for: 'chat-model' } }, 'Model'), select),
      temperature.element,
      maxTokens.element,
      h('div', { class: 'wide' }, h('label', { attrs: { for: 'chat-prompt' } }, 'Message'), prompt),
      h('div', { class: 'buttons' }, send, stop),
    ),
    output,
    stats,
  );
  (async () => {
    try {
      const [{ data }, { models }] = await Promise.all([
        call<{ data: { id: string }[] }>('v1/models'),
        call<{ models: { name: string }[] }>('v2/models'),
      ]);
      const onnx = new Set(models.map((m) => m.name));
      const language = data.filter((m) => !onnx.has(m.id));
      replace(select, ...language.map((m) => h('option', { attrs: { value: m.id } }, m.id)));
      if (language.length === 0) replace(stats, 'No language model is deployed.');
    } catch (error) {
      replace(stats, errorBox((error as Error).message));
    }
  })();
  return () => controller?.abort();
}
