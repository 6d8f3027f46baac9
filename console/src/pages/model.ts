/**
 * A model: tensors, features, labels; a form generated from its metadata (a
 * field per feature, a grid for an image-shaped input, JSON otherwise) that
 * runs V2 infer, shows probability bars and the V2 JSON, and copies the request.
 */
import { base, call } from '../api.ts';
import { bar, errorBox, h, replace, table } from '../dom.ts';
import { type Language, snippet } from '../snippets.ts';
import type { Manifest, RegistryView, TensorSpec } from '../types.ts';
import { routing, size } from './models.ts';

interface Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

/** One input's editor: the element to show and how to read a V2 tensor from it. */
interface Editor {
  readonly element: HTMLElement;
  read(): Tensor;
}

function fieldsEditor(spec: TensorSpec, names: string[]): Editor {
  const inputs = names.map((_, i) =>
    h('input', { attrs: { id: `f-${i}`, type: 'number', step: 'any', value: '0', required: '' } }),
  );
  const element = h(
    'fieldset',
    { class: 'fields' },
    h('legend', {}, `Input ${spec.name} (${spec.datatype})`),
    ...names.map((name, i) =>
      h('div', {}, h('label', { attrs: { for: `f-${i}` } }, name), inputs[i] as HTMLElement),
    ),
  );
  return {
    element,
    read: () => ({
      name: spec.name,
      shape: [1, names.length],
      datatype: spec.datatype,
      data: inputs.map((i) => Number(i.value)),
    }),
  };
}

function gridEditor(spec: TensorSpec, rows: number, cols: number): Editor {
  const max = spec.datatype === 'UINT8' ? 255 : 1;
  const cells = Array.from({ length: rows * cols }, (_, i) =>
    h('button', {
      class: 'cell',
      attrs: {
        type: 'button',
        'aria-pressed': 'false',
        'aria-label': `pixel ${Math.floor(i / cols)},${i % cols}`,
      },
      on: {
        click: (event) => {
          const cell = event.currentTarget as HTMLElement;
          cell.setAttribute('aria-pressed', cell.getAttribute('aria-pressed') === 'true' ? 'false' : 'true');
        },
      },
    }),
  );
  const grid = h('div', { class: 'grid' }, ...cells);
  grid.style.gridTemplateColumns = `repeat(${cols}, 1.25rem)`;
  const shape = spec.shape.map((d, i) =>
    d < 0 ? 1 : i === spec.shape.length - 2 ? rows : i === spec.shape.length - 1 ? cols : d,
  );
  return {
    element: h(
      'fieldset',
      {},
      h('legend', {}, `Input ${spec.name}: click cells to draw (${rows}×${cols})`),
      grid,
    ),
    read: () => ({
      name: spec.name,
      shape,
      datatype: spec.datatype,
      data: cells.map((c) => (c.getAttribute('aria-pressed') === 'true' ? max : 0)),
    }),
  };
}

function jsonEditor(spec: TensorSpec): Editor {
  const shape = spec.shape.map((d) => (d < 0 ? 1 : d));
  const count = shape.reduce((a, b) => a * b, 1);
  const id = `json-${spec.name}`;
  const area = h('textarea', { attrs: { id, rows: '4' } });
  area.value = JSON.stringify(Array(count).fill(0));
  return {
    element: h(
      'div',
      {},
      h(
        'label',
        { attrs: { for: id } },
        `${spec.name} data (${spec.datatype}, shape ${JSON.stringify(shape)})`,
      ),
      area,
    ),
    read: () => ({
      name: spec.name,
      shape,
      datatype: spec.datatype,
      data: JSON.parse(area.value) as unknown[],
    }),
  };
}

function editors(manifest: Manifest): Editor[] {
  const [first] = manifest.inputs;
  if (
    first &&
    manifest.inputs.length === 1 &&
    first.shape.length === 2 &&
    (first.shape[1] ?? 0) > 0 &&
    (first.shape[1] ?? 0) <= 64
  ) {
    const n = first.shape[1] as number;
    return [fieldsEditor(first, manifest.features ?? Array.from({ length: n }, (_, i) => `feature ${i}`))];
  }
  return manifest.inputs.map((spec) => {
    const [rows, cols] = spec.shape.slice(-2);
    const image = spec.shape.length >= 3 && rows && cols && rows > 0 && cols > 0 && rows * cols <= 1024;
    return image ? gridEditor(spec, rows, cols) : jsonEditor(spec);
  });
}

function answerView(manifest: Manifest, outputs: Tensor[]): HTMLElement {
  const probabilities = outputs.find((o) => o.name === 'probabilities');
  const label = outputs.find((o) => o.name === 'label');
  const labels = manifest.labels;
  const name = (i: number) => labels?.[i] ?? `class ${i}`;
  const predicted = label ? name(Number(label.data[0])) : undefined;
  const row = probabilities
    ? (probabilities.data.flat(3) as number[]).slice(0, probabilities.shape.at(-1) ?? 0)
    : [];
  return h(
    'section',
    { attrs: { 'aria-label': 'Answer' } },
    h('h3', {}, 'Answer'),
    predicted !== undefined
      ? h('p', { class: 'prediction' }, 'Prediction: ', h('strong', {}, predicted))
      : null,
    ...row.map((p, i) => bar(name(i), p, p.toFixed(3))),
    !label && !probabilities
      ? h('p', {}, `Outputs: ${outputs.map((o) => `${o.name} = ${JSON.stringify(o.data)}`).join('; ')}`)
      : null,
  );
}

/** The version to try: the one production sends most traffic to, else the newest. */
function triedVersion(view: RegistryView): Manifest {
  const primary = [...(view.production?.routes ?? [])].sort((a, b) => b.weight - a.weight)[0]?.version;
  return (view.versions.find((v) => v.version === primary) ??
    view.versions[view.versions.length - 1]) as Manifest;
}

export function modelPage(main: HTMLElement, name: string): () => void {
  replace(main, h('h1', {}, name), h('p', {}, 'Loading…'));
  (async () => {
    try {
      const view = await call<RegistryView>(`v2/models/${encodeURIComponent(name)}/registry`);
      const manifest = triedVersion(view);
      const inputs = editors(manifest);
      const result = h('div', { attrs: { 'aria-live': 'polite' } });
      const code = h('pre', { class: 'code', attrs: { 'aria-label': 'Request code' } });
      let lastBody: unknown = { inputs: inputs.map((e) => e.read()) };
      // Pinned to the version the form is made from: an unpinned call follows production's routing,
      // which may send it to a version with other inputs.
      const path = `v2/models/${encodeURIComponent(name)}/versions/${encodeURIComponent(manifest.version)}/infer`;
      const url = new URL(path, base).href;
      const copy = (language: Language) =>
        h(
          'button',
          {
            attrs: { type: 'button' },
            on: {
              click: () => {
                const text = snippet(language, url, lastBody);
                code.textContent = text;
                navigator.clipboard?.writeText(text).catch(() => {});
              },
            },
          },
          `Copy as ${language}`,
        );
      const form = h(
        'form',
        {
          on: {
            submit: async (event) => {
              event.preventDefault();
              try {
                lastBody = { inputs: inputs.map((e) => e.read()) };
                const answer = await call<{ outputs: Tensor[] }>(path, { method: 'POST', body: lastBody });
                replace(
                  result,
                  answerView(manifest, answer.outputs),
                  h(
                    'details',
                    { attrs: { open: '' } },
                    h('summary', {}, 'V2 JSON'),
                    h(
                      'pre',
                      { class: 'code' },
                      `POST ${url}\n${JSON.stringify(lastBody, null, 2)}\n\n${JSON.stringify(answer, null, 2)}`,
                    ),
                  ),
                );
              } catch (error) {
                replace(result, errorBox((error as Error).message));
              }
            },
          },
        },
        ...inputs.map((e) => e.element),
        h('button', { attrs: { type: 'submit' } }, 'Predict'),
      );
      replace(
        main,
        h('h1', {}, name),
        manifest.description ? h('p', {}, manifest.description) : null,
        h('h2', {}, 'Versions'),
        table(
          'Versions',
          ['Version', 'Size', 'Created'],
          view.versions.map((v) => [v.version, size(v.sizeBytes), v.createdAt]),
        ),
        h('h2', {}, 'Production routing'),
        routing(view),
        h('h2', {}, 'Tensors'),
        table(
          'Inputs and outputs',
          ['Kind', 'Name', 'Datatype', 'Shape'],
          [
            ...manifest.inputs.map((t) => ['input', t.name, t.datatype, JSON.stringify(t.shape)]),
            ...manifest.outputs.map((t) => ['output', t.name, t.datatype, JSON.stringify(t.shape)]),
          ],
        ),
        manifest.features ? h('p', {}, `Features: ${manifest.features.join(', ')}`) : null,
        manifest.labels ? h('p', {}, `Labels: ${manifest.labels.join(', ')}`) : null,
        h('h2', {}, 'Try it'),
        h('p', {}, `Version ${manifest.version}, the one production serves most (else the newest).`),
        form,
        result,
        h('div', { class: 'copy' }, copy('curl'), copy('Python'), copy('JavaScript')),
        code,
      );
    } catch (error) {
      replace(main, h('h1', {}, name), errorBox((error as Error).message));
    }
  })();
  return () => {};
}
