/** `GET /v1/batches`: the most recent batch jobs, read from their manifests under batch/output/. */
import { type _Object, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { BatchApiDependencies, BatchJobView } from './api.ts';
import { BATCH_OUTPUT } from './layout.ts';
import { readManifest } from './manifest.ts';

/** How many jobs the list shows, newest first. */
export const RECENT_BATCHES = 50;

export async function recentBatches(deps: BatchApiDependencies): Promise<{ jobs: BatchJobView[] }> {
  const manifests: _Object[] = [];
  let token: string | undefined;
  do {
    const page = await deps.s3.send(
      new ListObjectsV2Command({ Bucket: deps.bucket, Prefix: BATCH_OUTPUT, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? [])
      if (object.Key?.endsWith('.manifest.json')) manifests.push(object);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const newest = manifests
    .sort((a, b) => (b.LastModified?.getTime() ?? 0) - (a.LastModified?.getTime() ?? 0))
    .slice(0, RECENT_BATCHES);
  const jobs = await Promise.all(
    newest.map(async (object): Promise<BatchJobView | undefined> => {
      const manifest = await readManifest(deps, object.Key as string);
      if (!manifest) return undefined;
      return {
        id: manifest.id,
        status: manifest.status,
        input: manifest.input.key,
        output: manifest.output ?? '',
        manifest,
      };
    }),
  );
  return { jobs: jobs.filter((j): j is BatchJobView => j !== undefined) };
}
