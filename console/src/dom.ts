/**
 * The console's only way to make elements: text goes in as text nodes, never
 * as HTML, so model names, labels, manifests and chat text cannot inject markup.
 */
type Child = Node | string | number | null | undefined | false;

export interface Props {
  readonly class?: string;
  readonly attrs?: Readonly<Record<string, string>>;
  readonly on?: Readonly<Record<string, (event: Event) => void>>;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  for (const [name, value] of Object.entries(props.attrs ?? {})) el.setAttribute(name, value);
  for (const [name, listener] of Object.entries(props.on ?? {})) el.addEventListener(name, listener);
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what a node holds. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

/** A horizontal bar of `fraction` (0..1) with a text label: width set through CSSOM, which the CSP allows. */
export function bar(label: string, fraction: number, detail: string): HTMLElement {
  const fill = h('span', { class: 'fill' });
  fill.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  return h(
    'div',
    { class: 'bar', attrs: { role: 'img', 'aria-label': `${label}: ${detail}` } },
    h('span', { class: 'bar-label' }, label),
    h('span', { class: 'track' }, fill),
    h('span', { class: 'bar-value' }, detail),
  );
}

/** A table from header names and rows of cells. */
export function table(caption: string, headers: string[], rows: Child[][]): HTMLTableElement {
  return h(
    'table',
    {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...headers.map((name) => h('th', { attrs: { scope: 'col' } }, name)))),
    h('tbody', {}, ...rows.map((cells) => h('tr', {}, ...cells.map((cell) => h('td', {}, cell))))),
  );
}

export function errorBox(message: string): HTMLElement {
  return h('p', { class: 'error', attrs: { role: 'alert' } }, message);
}
