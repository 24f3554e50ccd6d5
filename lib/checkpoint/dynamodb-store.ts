// Checkpoints in DynamoDB: one item per (consumer group, topic-partition), entries gzip-compressed so a
// 10,000-record batch stays far below the 400 KB item limit, written with an optimistic version check.
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  CheckpointConflictError,
  type CheckpointStore,
  decodeEntries,
  emptyCheckpoint,
  encodeEntries,
  type PartitionCheckpoint,
} from './checkpoint.ts';

export const checkpointKey = (group: string, partition: string) => `ckpt#${group}#${partition}`;

interface CheckpointItem {
  pk: string;
  watermark: number;
  entries?: Uint8Array;
  bulkJobs?: string[];
  version: number;
  updatedAt: string;
}

/**
 * A checkpoint store on a DynamoDB table whose partition key is the string attribute `pk`.
 *
 * @example
 * const store = dynamoCheckpointStore(new DynamoDBClient({}), process.env.SFSINK_TABLE!);
 */
export function dynamoCheckpointStore(client: DynamoDBClient, table: string): CheckpointStore {
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  return {
    async load(group, partitions) {
      const out = new Map<string, PartitionCheckpoint>(partitions.map((p) => [p, emptyCheckpoint(p)]));
      for (let i = 0; i < partitions.length; i += 100) {
        let keys = partitions.slice(i, i + 100).map((p) => ({ pk: checkpointKey(group, p) }));
        while (keys.length > 0) {
          const response = await doc.send(
            new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }),
          );
          for (const item of (response.Responses?.[table] ?? []) as CheckpointItem[]) {
            const partition = item.pk.slice(`ckpt#${group}#`.length);
            out.set(partition, {
              partition,
              watermark: item.watermark,
              entries: item.entries ? decodeEntries(gunzipSync(item.entries).toString('utf8')) : new Map(),
              bulkJobs: item.bulkJobs ?? [],
              version: item.version,
            });
          }
          keys = (response.UnprocessedKeys?.[table]?.Keys ?? []) as { pk: string }[];
        }
      }
      return out;
    },

    async save(group, checkpoint) {
      const item: CheckpointItem = {
        pk: checkpointKey(group, checkpoint.partition),
        watermark: checkpoint.watermark,
        version: checkpoint.version + 1,
        updatedAt: new Date().toISOString(),
      };
      if (checkpoint.entries.size > 0) item.entries = gzipSync(encodeEntries(checkpoint.entries));
      if (checkpoint.bulkJobs.length > 0) item.bulkJobs = checkpoint.bulkJobs;
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
        if (error instanceof ConditionalCheckFailedException)
          throw new CheckpointConflictError(checkpoint.partition);
        throw error;
      }
      checkpoint.version += 1;
    },
  };
}
