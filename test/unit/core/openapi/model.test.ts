/** The per-model OpenAPI document: valid, typed by the manifest, examples accepted by the real parsers. */
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { modelOpenApiDocument } from '../../../../functions/core/openapi/model.ts';
import { parsePredictRequest } from '../../../../functions/core/protocols/predict.ts';
import { parseInferRequest } from '../../../../functions/core/protocols/v2.ts';
import type { Manifest } from '../../../../functions/core/registry/manifest.ts';
import { irisManifest } from '../../../fixtures/manifests.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON documents.
type Json = Record<string, any>;
const iris = irisManifest();
const image: Manifest = {
  ...iris,
  name: 'digits',
  inputs: [
    { name: 'pixels', datatype: 'UINT8', shape: [-1, 8, 8] },
    { name: 'scale', datatype: 'FP32', shape: [1] },
  ],
  labels: undefined,
  features: undefined,
};

const body = (doc: Json, path: string) => doc.paths[path].post.requestBody.content['application/json'];

describe('GET /v2/models/{m}/openapi.json document', () => {
  it('is valid OpenAPI 3.1 and names the model, its versions, features and labels', async () => {
    const doc = modelOpenApiDocument(iris, ['1', '2'], '0.1.0') as Json;
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
    expect(doc.info.description).toContain('Versions: 1, 2.');
    expect(doc.info.description).toContain('Labels: setosa, versicolor, virginica.');
    const instance = body(doc, '/v1/models/iris/predict').schema.properties.instances.items;
    expect(instance.oneOf[1].required).toEqual(iris.features);
    const predictions =
      doc.paths['/v1/models/iris/predict'].post.responses['200'].content['application/json'].schema;
    expect(predictions.properties.predictions.items).toEqual({ enum: iris.labels });
  });

  it('types each input tensor: its name, datatype and fixed dimensions', () => {
    const doc = modelOpenApiDocument(image, ['1'], '0.1.0') as Json;
    const inputs = body(doc, '/v2/models/digits/infer').schema.properties.inputs;
    expect(inputs.minItems).toBe(2);
    expect(inputs.items.oneOf[0].properties).toMatchObject({
      name: { const: 'pixels' },
      datatype: { const: 'UINT8' },
      shape: { prefixItems: [{ type: 'integer', minimum: 0 }, { const: 8 }, { const: 8 }] },
    });
    // Two inputs: no predict route for this model.
    expect(doc.paths['/v1/models/digits/predict']).toBeUndefined();
  });

  it('has examples that validate against their schemas and that the real parsers accept', async () => {
    const ajv = new Ajv2020({ strict: false });
    for (const manifest of [iris, image]) {
      const doc = modelOpenApiDocument(manifest, ['1'], '0.1.0') as Json;
      await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
      const infer = body(doc, `/v2/models/${manifest.name}/infer`);
      expect(ajv.validate(infer.schema, infer.example), ajv.errorsText()).toBe(true);
      expect(parseInferRequest(infer.example, manifest, 1000).inputs).toHaveLength(manifest.inputs.length);
    }
    const predict = body(modelOpenApiDocument(iris, ['1'], '0.1.0') as Json, '/v1/models/iris/predict');
    expect(ajv.validate(predict.schema, predict.example), ajv.errorsText()).toBe(true);
    expect(parsePredictRequest(predict.example, iris, 100).shape).toEqual([1, 4]);
    // A row that breaks the schema is one the parser refuses too.
    const short = { instances: [[1, 2, 3]] };
    expect(ajv.validate(predict.schema, short)).toBe(false);
    expect(() => parsePredictRequest(short, iris, 100)).toThrow(/4 FP32 values/);
  });
});

describe('the predict body of inputs beyond [-1, F]', () => {
  const ajv = new Ajv2020({ strict: false });
  it.each([
    ['a scalar input', [], [1, 2]],
    ['a scalar per row', [-1], [[1]]],
    ['an empty dimension', [-1, 0], [[1]]],
    ['an image', [-1, 1, 2, 2], [[[0, 0, 0, 0]]]],
    ['a fixed batch', [2, 3], [[0, 0, 0]]],
  ])('for %s: the example is accepted by schema and parser, a misfit refused by both', (_, shape, misfit) => {
    const manifest: Manifest = {
      ...iris,
      name: 'm',
      features: undefined,
      inputs: [{ name: 'x', datatype: 'FP32', shape }],
    };
    const predict = body(modelOpenApiDocument(manifest, ['1'], '0.1.0') as Json, '/v1/models/m/predict');
    expect(ajv.validate(predict.schema, predict.example), ajv.errorsText()).toBe(true);
    expect(() => parsePredictRequest(predict.example, manifest, 100)).not.toThrow();
    expect(ajv.validate(predict.schema, { instances: misfit })).toBe(false);
    expect(() => parsePredictRequest({ instances: misfit }, manifest, 100)).toThrow();
  });
});
