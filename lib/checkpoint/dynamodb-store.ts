// Checkpoints in DynamoDB: one item per (consumer group, event source, topic-partition), written with an
// optimistic version check. Entries are gzip-compressed JSON; when a batch's entries still do not fit
// under DynamoDB's 400 KB item limit (thousands of stored outcomes with incompressible messages), the
// compressed bytes spill into content-addressed part items that the checkpoint item lists, written
// before it and deleted once no checkpoint version lists them.
//
// Checkpoints written before they were scoped to the event source (key `ckpt#<group>#<partition>`) are
// read once: the first event source to load one claims it and carries its progress over; another
// source starts fresh instead of skipping offsets that were never its own.
import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { decodeEntries, emptyCheckpoint, encodeEntries, type PartitionCheckpoint } from './ledger.ts';
import { CheckpointConflictError, type CheckpointScope, type CheckpointStore } from './store.ts';

/** Compressed entries kept in the checkpoint item itself, and the size of each part item beyond that. */
const INLINE_BYTES = 300_000;
const PART_BYTES = 300_000;

const sourceTag = (source: string) => createHash('sha256').update(source).digest('hex').slice(0, 16);

/**
 * The key of a partition's checkpoint.
 *
 * @example
 * checkpointKey({ group: 'g', source: 'arn:aws:kafka:…' }, 'leads-0'); // 'ckpt#g#3f2a…#leads-0'
 */
export const checkpointKey = (scope: CheckpointScope, partition: string) =>
  `ckpt#${scope.group}#${sourceTag(scope.source)}#${partition}`;

/** The key checkpoints had before they were scoped to the event source. */
export const legacyCheckpointKey = (group: string, partition: string) => `ckpt#${group}#${partition}`;

/**
 * A part's key: the checkpoint's, the version being written and a nonce, so two writers of one version
 * never share a part (the loser deletes only its own).
 */
const partKey = (pk: string, version: number, nonce: string, n: number) =>
  `ckptpart#${pk}#${version}#${nonce}#${n}`;

interface CheckpointItem {
  pk: string;
  watermark: number;
  entries?: Uint8Array;
  /** Part item keys whose data, concatenated, are the compressed entries. */
  parts?: string[];
  bulkJobs?: string[];
  seenUntil?: number;
  source?: string;
  version: number;
  updatedAt: string;
  /** Legacy items only: the event source that carried its progress over, and whether it has. */
  claimedBy?: string;
  carriedOver?: boolean;
}

/**
 * A checkpoint store on a DynamoDB table whose partition key is the string attribute `pk`.
 *
 * @example
 * const store = dynamoCheckpointStore(new DynamoDBClient({}), process.env.SFSINK_TABLE!);
 */
export function dynamoCheckpointStore(client: DynamoDBClient, table: string): CheckpointStore {
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  /** Parts each loaded or saved checkpoint lists, so the next save can delete the ones it no longer needs. */
  const partsListed = new WeakMap<PartitionCheckpoint, string[]>();
  /** Checkpoints carried over from a legacy item, until their first save marks it carried over. */
  const legacyOf = new WeakMap<PartitionCheckpoint, string>();

  async function getAll(keys: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
    const out = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < keys.length; i += 100) {
      let pending = keys.slice(i, i + 100).map((pk) => ({ pk }));
      while (pending.length > 0) {
        const response = await doc.send(
          new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
        );
        for (const item of response.Responses?.[table] ?? []) out.set(item.pk as string, item);
        pending = (response.UnprocessedKeys?.[table]?.Keys ?? []) as { pk: string }[];
      }
    }
    return out;
  }

  async function writeAll(requests: Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < requests.length; i += 25) {
      let pending = requests.slice(i, i + 25);
      while (pending.length > 0) {
        const response = await doc.send(
          new BatchWriteCommand({ RequestItems: { [table]: pending as never } }),
        );
        pending = (response.UnprocessedItems?.[table] ?? []) as Record<string, unknown>[];
      }
    }
  }

  async function entriesOf(item: CheckpointItem): Promise<PartitionCheckpoint['entries']> {
    if (item.parts && item.parts.length > 0) {
      const parts = await getAll(item.parts);
      const chunks = item.parts.map((key) => {
        const data = parts.get(key)?.data as Uint8Array | undefined;
        if (!data) throw new Error(`checkpoint ${item.pk} lacks its part ${key}`);
        return data;
      });
      return decodeEntries(gunzipSync(Buffer.concat(chunks)).toString('utf8'));
    }
    return item.entries ? decodeEntries(gunzipSync(item.entries).toString('utf8')) : new Map();
  }

  async function checkpointFrom(partition: string, item: CheckpointItem, version: number) {
    const checkpoint: PartitionCheckpoint = {
      partition,
      watermark: item.watermark,
      entries: await entriesOf(item),
      bulkJobs: item.bulkJobs ?? [],
      version,
    };
    if (item.seenUntil !== undefined) checkpoint.seenUntil = item.seenUntil;
    if (item.parts) partsListed.set(checkpoint, item.parts);
    return checkpoint;
  }

  /** Claims a legacy checkpoint for this source; false when another source claimed it first. */
  async function claim(key: string, source: string): Promise<boolean> {
    try {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: key },
          // The version moves too: a writer of the earlier version still running fails its next write.
          UpdateExpression: 'SET claimedBy = :s, version = if_not_exists(version, :zero) + :one',
          ConditionExpression:
            'attribute_exists(pk) AND attribute_not_exists(carriedOver) AND (attribute_not_exists(claimedBy) OR claimedBy = :s)',
          ExpressionAttributeValues: { ':s': source, ':zero': 0, ':one': 1 },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  return {
    async load(scope, partitions) {
      const out = new Map<string, PartitionCheckpoint>(partitions.map((p) => [p, emptyCheckpoint(p)]));
      const items = await getAll(partitions.map((p) => checkpointKey(scope, p)));
      const missing: string[] = [];
      for (const partition of partitions) {
        const item = items.get(checkpointKey(scope, partition)) as CheckpointItem | undefined;
        if (item) out.set(partition, await checkpointFrom(partition, item, item.version));
        else missing.push(partition);
      }
      if (missing.length === 0) return out;
      const legacy = await getAll(missing.map((p) => legacyCheckpointKey(scope.group, p)));
      for (const partition of missing) {
        const key = legacyCheckpointKey(scope.group, partition);
        const item = legacy.get(key) as CheckpointItem | undefined;
        if (!item || item.carriedOver || (item.claimedBy !== undefined && item.claimedBy !== scope.source))
          continue;
        if (!(await claim(key, scope.source))) continue;
        // Version 0: the scoped item does not exist yet, and the first save creates it.
        const adopted = await checkpointFrom(partition, item, 0);
        legacyOf.set(adopted, key);
        out.set(partition, adopted);
      }
      return out;
    },

    async save(scope, checkpoint) {
      const item: CheckpointItem = {
        pk: checkpointKey(scope, checkpoint.partition),
        watermark: checkpoint.watermark,
        source: scope.source,
        version: checkpoint.version + 1,
        updatedAt: new Date().toISOString(),
      };
      let parts: string[] = [];
      if (checkpoint.entries.size > 0) {
        const compressed = gzipSync(encodeEntries(checkpoint.entries));
        if (compressed.length <= INLINE_BYTES) item.entries = compressed;
        else {
          const chunks: Buffer[] = [];
          for (let at = 0; at < compressed.length; at += PART_BYTES)
            chunks.push(compressed.subarray(at, at + PART_BYTES));
          const nonce = randomBytes(8).toString('hex');
          parts = chunks.map((_, n) => partKey(item.pk, item.version, nonce, n));
          await writeAll(chunks.map((data, i) => ({ PutRequest: { Item: { pk: parts[i], data } } })));
          item.parts = parts;
        }
      }
      if (checkpoint.bulkJobs.length > 0) item.bulkJobs = checkpoint.bulkJobs;
      if (checkpoint.seenUntil !== undefined) item.seenUntil = checkpoint.seenUntil;
      const previous = partsListed.get(checkpoint) ?? [];
      try {
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: item,
            ConditionExpression: checkpoint.version === 0 ? 'attribute_not_exists(pk)' : 'version = :v',
            ...(checkpoint.version === 0 ? {} : { ExpressionAttributeValues: { ':v': checkpoint.version } }),
          }),
        );
      } catch (error) {
        const unused = parts.filter((p) => !previous.includes(p));
        await writeAll(unused.map((pk) => ({ DeleteRequest: { Key: { pk } } }))).catch(() => undefined);
        if (error instanceof ConditionalCheckFailedException)
          throw new CheckpointConflictError(checkpoint.partition);
        throw error;
      }
      checkpoint.version += 1;
      partsListed.set(checkpoint, parts);
      const legacy = legacyOf.get(checkpoint);
      if (legacy) {
        // Carried over: never read again (a deleted scoped item must not bring the old watermark back).
        await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: legacy },
            UpdateExpression: 'SET carriedOver = :t',
            ExpressionAttributeValues: { ':t': true },
          }),
        );
        legacyOf.delete(checkpoint);
      }
      const stale = previous.filter((p) => !parts.includes(p));
      await writeAll(stale.map((pk) => ({ DeleteRequest: { Key: { pk } } })));
    },
  };
}
