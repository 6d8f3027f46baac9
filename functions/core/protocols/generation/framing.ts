/**
 * Reading a container's streamed answer: lines of a byte stream cut anywhere,
 * JSON events of SSE or JSON Lines, and the error events TGI and OpenAI servers
 * send after HTTP 200, as the errors a client should see.
 */
import { BadRequestError, type ModelGateError, TooManyRequestsError, UpstreamError } from '../../errors.ts';
import { isObject } from '../../json.ts';

type Json = Record<string, unknown>;

/** Lines of a byte stream whose chunk boundaries fall anywhere, even inside a UTF-8 character. */
export async function* lines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of chunks) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n');
    while (end >= 0) {
      yield buffer.slice(0, end).replace(/\r$/, '');
      buffer = buffer.slice(end + 1);
      end = buffer.indexOf('\n');
    }
  }
  buffer += decoder.decode();
  if (buffer.length > 0) yield buffer.replace(/\r$/, '');
}

/**
 * The error a stream's error event stands for. TGI's generate stream sends
 * `{"error", "error_type"}` (validation: the client's mistake); its Messages API
 * and OpenAI servers send `{"error": {"message", "http_status_code" | "code"}}`.
 * A client error is a 400 with the container's message, overload a 429, the rest 502.
 */
export function streamError(event: Json, where: string): ModelGateError {
  const inner = event.error;
  let message: string;
  let status: number | undefined;
  if (isObject(inner)) {
    message = typeof inner.message === 'string' ? inner.message : JSON.stringify(inner);
    const code = inner.http_status_code ?? inner.code;
    status = typeof code === 'number' ? code : undefined;
  } else {
    message = typeof inner === 'string' ? inner : JSON.stringify(inner);
    const type = event.error_type;
    status = type === 'validation' ? 422 : type === 'overloaded' ? 429 : undefined;
  }
  if (status === 429)
    return new TooManyRequestsError(`${where} is overloaded: ${message}`, { retryAfterSeconds: 1 });
  if (status !== undefined && status >= 400 && status < 500) {
    return new BadRequestError(`${where} refused the request: ${message}`);
  }
  return new UpstreamError(`${where} failed while generating: ${message}`);
}

/**
 * JSON events of a container's stream, by its content type: server-sent
 * events (`data:` lines; comments and other fields skipped) or JSON Lines
 * (a bare `data:` prefix tolerated). `[DONE]` ends the stream; an error event
 * is thrown as the error it stands for.
 */
export async function* streamEvents(
  chunks: AsyncIterable<Uint8Array>,
  contentType: string | undefined,
  where = 'the model server',
): AsyncGenerator<Json> {
  const sseStream = (contentType ?? '').includes('text/event-stream');
  for await (const raw of lines(chunks)) {
    const line = raw.trim();
    if (line === '' || line.startsWith(':')) continue;
    let data: string;
    if (line.startsWith('data:')) data = line.slice(5).trim();
    else if (sseStream)
      continue; // event:, id:, retry: fields
    else data = line;
    if (data === '[DONE]') return;
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch {
      throw new UpstreamError(`${where} streamed a line that is not JSON: ${data.slice(0, 200)}`);
    }
    if (isObject(event)) {
      if ('error' in event && !('choices' in event) && !('token' in event)) throw streamError(event, where);
      yield event;
    }
  }
}
