// The checkpoint store on DynamoDB Local: every batch's entries fit whatever their content (the item
// limit is 400 KB), a conflicting writer is refused, and checkpoints of earlier versions are carried
// over once, by the first event source that reads them.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, startLocalDynamo } from '../../local/stand-ins/dynamodb.ts';
import {
  checkpointKey as checkpointKeyOf,
  dynamoCheckpointStore,
  legacyCheckpointKey,
} from './dynamodb-store.ts';
import { emptyCheckpoint, encodeEntries, ledgerOf, type StoredOutcome } from './ledger.ts';
import { CheckpointConflictError } from './store.ts';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startLocalDynamo('ckpt');
});
afterAll(() => dynamo.close());

const failure = (message: string): StoredOutcome => ({
  status: 'failed',
  sobject: 'Lead',
  operation: 'insert',
  mode: 'realtime',
  errors: [{ code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message, fields: [] }],
  attempts: 1,
  timestamp: '2026-12-01T00:00:00.000Z',
});

describe('checkpoints in DynamoDB', () => {
  it('10,000 stored failures with incompressible messages fit (spilled to parts) and read back whole', async () => {
    const store = dynamoCheckpointStore(dynamo.client, dynamo.table);
    const scope = { group: 'g', source: 'cluster-a' };
    const checkpoint = emptyCheckpoint('leads-0');
    const ledger = ledgerOf(checkpoint);
    for (let offset = 0; offset < 10_000; offset++)
      ledger.markApplied(offset, failure(randomBytes(600).toString('base64')));
    // Far over DynamoDB's item limit even compressed: one item could not hold it.
    expect(gzipSync(encodeEntries(checkpoint.entries)).length).toBeGreaterThan(400_000);
    await store.save(scope, checkpoint);
    const loaded = (await store.load(scope, ['leads-0'])).get('leads-0')!;
    expect(loaded.entries).toEqual(checkpoint.entries);
    expect(loaded.version).toBe(1);

    // Shrinking again drops the parts; a stale writer is refused.
    for (let offset = 0; offset < 10_000; offset++) ledgerOf(loaded).markDone(offset);
    await store.save(scope, loaded);
    const again = (await store.load(scope, ['leads-0'])).get('leads-0')!;
    expect(again.entries.size).toBe(10_000);
    await expect(store.save(scope, checkpoint)).rejects.toBeInstanceOf(CheckpointConflictError);
  });

  it('a checkpoint of an earlier version is carried over by the first source, never by another', async () => {
    const store = dynamoCheckpointStore(dynamo.client, dynamo.table);
    const doc = DynamoDBDocumentClient.from(dynamo.client);
    await doc.send(
      new PutCommand({
        TableName: dynamo.table,
        Item: { pk: legacyCheckpointKey('old', 'orders-0'), watermark: 41, version: 7, updatedAt: 'then' },
      }),
    );
    const first = (await store.load({ group: 'old', source: 'cluster-a' }, ['orders-0'])).get('orders-0')!;
    expect(first.watermark).toBe(41);
    await store.save({ group: 'old', source: 'cluster-a' }, first);
    // The same source again reads its own scoped checkpoint; another source starts fresh.
    expect(
      (await store.load({ group: 'old', source: 'cluster-a' }, ['orders-0'])).get('orders-0')!.watermark,
    ).toBe(41);
    expect(
      (await store.load({ group: 'old', source: 'cluster-b' }, ['orders-0'])).get('orders-0')!.watermark,
    ).toBe(-1);
  });

  it('two writers of one version with the same spilled change: the loser leaves the winner readable', async () => {
    const store = dynamoCheckpointStore(dynamo.client, dynamo.table);
    const scope = { group: 'g', source: 'cluster-same' };
    const base = emptyCheckpoint('leads-1');
    await store.save(scope, base);
    const [a, b] = await Promise.all(
      [0, 1].map(async () => (await store.load(scope, ['leads-1'])).get('leads-1')!),
    );
    const messages = Array.from({ length: 2_000 }, () => randomBytes(600).toString('base64'));
    for (const checkpoint of [a!, b!])
      for (let offset = 0; offset < messages.length; offset++)
        ledgerOf(checkpoint).markApplied(offset, failure(messages[offset]!));
    await store.save(scope, a!);
    await expect(store.save(scope, b!)).rejects.toBeInstanceOf(CheckpointConflictError);
    const loaded = (await store.load(scope, ['leads-1'])).get('leads-1')!;
    expect(loaded.entries).toEqual(a!.entries);
  });

  it('a carried-over checkpoint of an earlier version is not carried over again once the scoped one is gone', async () => {
    const store = dynamoCheckpointStore(dynamo.client, dynamo.table);
    const doc = DynamoDBDocumentClient.from(dynamo.client);
    const scope = { group: 'older', source: 'cluster-a' };
    await doc.send(
      new PutCommand({
        TableName: dynamo.table,
        Item: { pk: legacyCheckpointKey('older', 'orders-0'), watermark: 41, version: 7, updatedAt: 'then' },
      }),
    );
    const first = (await store.load(scope, ['orders-0'])).get('orders-0')!;
    expect(first.watermark).toBe(41);
    await store.save(scope, first);
    // The scoped checkpoint is removed (the topic was re-created and the table cleaned): start fresh.
    await doc.send(
      new DeleteCommand({ TableName: dynamo.table, Key: { pk: checkpointKeyOf(scope, 'orders-0') } }),
    );
    expect((await store.load(scope, ['orders-0'])).get('orders-0')!.watermark).toBe(-1);
  });
});
