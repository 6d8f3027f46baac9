/**
 * The console's entry: sign in with an API key, then a hash router over the
 * pages (models, a model, chat, batches, metrics, usage). Read and try only.
 */
import { ApiError, call, session } from './api.ts';
import { errorBox, h, replace } from './dom.ts';
import { batchesPage } from './pages/batches.ts';
import { chatPage } from './pages/chat.ts';
import { metricsPage } from './pages/metrics.ts';
import { modelPage } from './pages/model.ts';
import { modelsPage } from './pages/models.ts';
import { usagePage } from './pages/usage.ts';

const app = document.getElementById('app') as HTMLElement;
/** Stops what a page left running (polling, a stream) when another page opens. */
let leave: (() => void) | undefined;

function signIn(message?: string): void {
  const input = h('input', {
    attrs: { id: 'key', type: 'password', autocomplete: 'off', required: '', spellcheck: 'false' },
  });
  const status = h('div', { attrs: { 'aria-live': 'polite' } }, message ? errorBox(message) : null);
  const form = h(
    'form',
    {
      class: 'signin',
      on: {
        submit: async (event) => {
          event.preventDefault();
          session.signIn(input.value.trim());
          try {
            await call('v2/models');
            route();
          } catch (error) {
            session.signOut();
            const refused = error instanceof ApiError && (error.status === 403 || error.status === 401);
            replace(
              status,
              errorBox(
                refused
                  ? `The key was refused (${(error as Error).message}): check it and try again.`
                  : `Could not reach the API: ${(error as Error).message}`,
              ),
            );
          }
        },
      },
    },
    h('h1', {}, 'ModelGate console'),
    h('label', { attrs: { for: 'key' } }, 'API key'),
    input,
    h('button', { attrs: { type: 'submit' } }, 'Sign in'),
    h(
      'p',
      { class: 'hint' },
      'The key stays in this tab (session storage) and is cleared when you sign out.',
    ),
    status,
  );
  replace(app, h('main', {}, form));
  input.focus();
}

function shell(active: string): HTMLElement {
  const link = (href: string, label: string) =>
    h('a', { attrs: { href, ...(active === href && { 'aria-current': 'page' }) } }, label);
  const main = h('main', { attrs: { id: 'main' } });
  replace(
    app,
    h(
      'header',
      {},
      h('span', { class: 'brand' }, 'ModelGate'),
      h(
        'nav',
        { attrs: { 'aria-label': 'Console' } },
        link('#/models', 'Models'),
        link('#/chat', 'Chat'),
        link('#/batches', 'Batches'),
        link('#/metrics', 'Metrics'),
        link('#/usage', 'Usage'),
        h('a', { attrs: { href: 'docs' } }, 'API reference'),
      ),
      h(
        'button',
        {
          class: 'signout',
          attrs: { type: 'button' },
          on: {
            click: () => {
              session.signOut();
              window.location.hash = '';
              signIn();
            },
          },
        },
        'Sign out',
      ),
    ),
    main,
  );
  return main;
}

function route(): void {
  leave?.();
  leave = undefined;
  if (!session.key) {
    signIn();
    return;
  }
  const hash = window.location.hash || '#/models';
  const model = /^#\/models\/([^/]+)$/.exec(hash);
  if (model) {
    leave = modelPage(shell('#/models'), decodeURIComponent(model[1] as string));
  } else if (hash === '#/chat') {
    leave = chatPage(shell(hash));
  } else if (hash === '#/batches') {
    leave = batchesPage(shell(hash));
  } else if (hash === '#/metrics') {
    leave = metricsPage(shell(hash));
  } else if (hash === '#/usage') {
    leave = usagePage(shell(hash));
  } else {
    leave = modelsPage(shell('#/models'));
  }
}

window.addEventListener('hashchange', route);
route();
