/** The chat function's REST routes: OpenAI-compatible chat completions and text completions. */
import type { KeyOf, RouteSpec } from '../api/routes.ts';

/**
 * The REST resources of the chat function (response streaming). Bodies are
 * validated by the function, which answers OpenAI-shaped errors.
 */
export const CHAT_ROUTES = [
  { method: 'POST', resource: '/v1/chat/completions', apiKeyRequired: true },
  { method: 'POST', resource: '/v1/completions', apiKeyRequired: true },
] as const satisfies readonly RouteSpec[];

export type ChatRouteKey = KeyOf<(typeof CHAT_ROUTES)[number]>;
