/** Models: every model with its versions, production's routing weights, shadow, sizes and dates. */
import { call } from '../api.ts';
import { bar, errorBox, h, replace, table } from '../dom.ts';
import type { RegistryView } from '../types.ts';

export function size(bytes: number): string {
  return bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(1)} KiB`;
}

export function routing(view: RegistryView): HTMLElement {
  const routes = view.production?.routes;
  if (!routes) {
    const latest = view.versions[view.versions.length - 1]?.version ?? '?';
    return h('span', {}, `latest (version ${latest}), no production alias`);
  }
  const total = routes.reduce((sum, r) => sum + r.weight, 0) || 1;
  return h(
    'div',
    { class: 'routing' },
    ...routes.map((r) => bar(`v${r.version}`, r.weight / total, `${Math.round((r.weight / total) * 100)}%`)),
    view.production?.shadow ? h('span', { class: 'shadow' }, `shadow: v${view.production.shadow}`) : null,
  );
}

export function modelsPage(main: HTMLElement): () => void {
  replace(main, h('h1', {}, 'Models'), h('p', { attrs: { 'aria-live': 'polite' } }, 'Loading…'));
  (async () => {
    try {
      const { models } = await call<{ models: { name: string }[] }>('v2/models');
      const views = await Promise.all(
        models.map((m) => call<RegistryView>(`v2/models/${encodeURIComponent(m.name)}/registry`)),
      );
      const rows = views.map((view) => {
        const latest = view.versions[view.versions.length - 1];
        return [
          h('a', { attrs: { href: `#/models/${encodeURIComponent(view.name)}` } }, view.name),
          view.versions.map((v) => v.version).join(', '),
          routing(view),
          latest ? size(latest.sizeBytes) : '',
          latest ? new Date(latest.createdAt).toISOString().slice(0, 10) : '',
        ];
      });
      replace(
        main,
        h('h1', {}, 'Models'),
        table(`${views.length} models`, ['Model', 'Versions', 'Production routing', 'Size', 'Created'], rows),
        h(
          'p',
          { class: 'hint' },
          'Publishing and promoting stay with the modelgate CLI and IAM: the console reads and tries.',
        ),
      );
    } catch (error) {
      replace(main, h('h1', {}, 'Models'), errorBox((error as Error).message));
    }
  })();
  return () => {};
}
