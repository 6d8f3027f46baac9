/**
 * Text generation for the OpenAI routes: a chat or text completion request parsed, the body its model
 * container is sent, and the container's answer, whole or streamed, in OpenAI's shape.
 */
import {
  type ChatRequest,
  type CompletionRequest,
  type GenerationOptions,
  parseChatRequest,
  parseCompletionRequest,
} from '../openai.ts';
import { chatAnswer, completionAnswer } from './answer.ts';
import { type ContainerProtocol, containerChatBody, containerCompletionBody } from './request.ts';
import { chatChunks, completionChunks, type StreamChunk } from './stream.ts';

export { chatAnswer, completionAnswer, generated } from './answer.ts';
export { lines, streamEvents } from './framing.ts';
export { finishReason } from './parts.ts';
export type { ContainerProtocol } from './request.ts';
export { containerChatBody, containerCompletionBody } from './request.ts';
export { chatChunks, completionChunks, type StreamChunk } from './stream.ts';

type Json = Record<string, unknown>;

export type { GenerationOptions };

/** The OpenAI routes a language model answers. */
export const GENERATION_ROUTES = ['/v1/chat/completions', '/v1/completions'] as const;
export type GenerationRoute = (typeof GENERATION_ROUTES)[number];

/** A validated OpenAI request: a chat completion or a text completion. */
export type Generation =
  | { readonly kind: 'chat'; readonly request: ChatRequest }
  | { readonly kind: 'text'; readonly request: CompletionRequest };

/** Parses the body of an OpenAI route. @throws BadRequestError naming the parameter. */
export function parseGeneration(route: GenerationRoute, body: unknown): Generation {
  return route === '/v1/chat/completions'
    ? { kind: 'chat', request: parseChatRequest(body) }
    : { kind: 'text', request: parseCompletionRequest(body) };
}

/** What the container is sent for a request. */
export function containerBody(generation: Generation, protocol: ContainerProtocol): Json {
  return generation.kind === 'chat'
    ? containerChatBody(generation.request, protocol)
    : containerCompletionBody(generation.request, protocol);
}

/** Our answer, from the container's whole answer. */
export function wholeAnswer(generation: Generation, raw: unknown, where?: string) {
  return generation.kind === 'chat'
    ? chatAnswer(generation.request, raw, where)
    : completionAnswer(generation.request, raw, where);
}

/** Our stream of chunks, from the container's stream of events. */
export function streamedAnswer(
  generation: Generation,
  events: AsyncIterable<Json>,
  where?: string,
): AsyncGenerator<StreamChunk> {
  return generation.kind === 'chat'
    ? chatChunks(generation.request, events, where)
    : completionChunks(generation.request, events, where);
}
