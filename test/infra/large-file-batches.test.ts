/**
 * The LargeFileBatches construct in the synthesized ModelGate template: the Distributed Map state machine's
 * readers, batching and merge steps, its logging and tracing, and how the batch function starts it.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { modelGateTemplate, s3Grants } from './helpers.ts';

const { template } = modelGateTemplate();

describe('LargeFileBatches: files too large for one run', () => {
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const definition = JSON.stringify(Object.values(machines)[0]?.Properties.DefinitionString);

  it('reads the object with the Distributed Map native JSONL and CSV readers, in batches with item indexes', () => {
    expect(Object.keys(machines)).toHaveLength(1);
    // The definition is a JSON string inside the template's JSON: quotes come escaped.
    const escaped = (fragment: string) => JSON.stringify(fragment).slice(1, -1);
    for (const fragment of [
      '"Type":"Map"',
      '"ProcessorConfig":{"Mode":"DISTRIBUTED"',
      '"InputType":"JSONL"',
      '"InputType":"CSV","CSVHeaderLocation":"FIRST_ROW"',
      '"index.$":"$$.Map.Item.Index"',
      '"MaxItemsPerBatch":20000',
    ]) {
      expect(definition).toContain(escaped(fragment));
    }
    expect(definition).toMatch(/MergeParts/);
    expect(definition).toMatch(/MergePartsAfterFailure/);
  });

  it('lets the merge function read the inputs (a CSV is read once more), and the parts and outputs it joins', () => {
    const pairs = s3Grants(template, 'LargeFileBatchesMerge', [
      'batch/input',
      'batch/output/.parts',
      'batch/output',
    ]);
    // Exactly these: the input read (and listed, to tell a missing one), never written.
    expect(pairs).toEqual([
      's3:AbortMultipartUpload batch/output/*',
      's3:DeleteObject batch/output/.parts/*',
      's3:GetObject batch/input/*',
      's3:GetObject batch/output/*',
      's3:GetObject batch/output/.parts/*',
      's3:ListBucket batch/input/*',
      's3:ListBucket batch/output/*',
      's3:PutObject batch/output/*',
    ]);
  });

  it('logs and traces the state machine', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
  });

  it('tells the batch function the state machine and the size threshold, and lets it start executions', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
      String(f.Properties.Description).startsWith('ModelGate batch function'),
    );
    expect(fn?.Properties.Environment.Variables).toMatchObject({
      MODELGATE_LARGE_BATCH_STATE_MACHINE: { Ref: expect.stringMatching(/^LargeFileBatchesLargeFiles/) },
      MODELGATE_LARGE_BATCH_BYTES: String(1024 ** 3),
    });
    const statements = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('BatchFunction'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'states:StartExecution',
        Resource: { Ref: expect.stringMatching(/^LargeFileBatchesLargeFiles/) },
      }),
    );
  });
});
