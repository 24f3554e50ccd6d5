// Correlation chunks of the bulk job store stay under DynamoDB's item limit whatever the keys hold.
import { randomBytes } from 'node:crypto';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, startLocalDynamo } from '../../local/stand-ins/dynamodb.ts';
import { dynamoJobStore } from './dynamodb-store.ts';
import type { BulkUnit, CorrelationRow } from './store.ts';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(() => dynamo.close());

const unit = (unitKey: string, records: number): BulkUnit => ({
  unitKey,
  group: 'g',
  state: 'intent',
  sobject: 'Order_Event__c',
  operation: 'insert',
  matchColumns: ['Event_Key__c'],
  records,
  chunks: 0,
  published: 0,
  attempt: 0,
  chain: [],
  createdAt: '2025-01-01T00:00:00.000Z',
  successors: 0,
  resultChunks: 0,
});

async function chunkSizes(unitKey: string, chunks: number): Promise<number[]> {
  const doc = DynamoDBDocumentClient.from(dynamo.client);
  const sizes: number[] = [];
  for (let n = 0; n < chunks; n++) {
    const item = await doc.send(
      new GetCommand({ TableName: dynamo.table, Key: { pk: `bulkrows#${unitKey}#${n}` } }),
    );
    sizes.push((item.Item!.data as Uint8Array).length);
  }
  return sizes;
}

const row = (offset: number, key: string | null): CorrelationRow => ({
  topic: 'orders',
  partition: offset % 2,
  offset,
  key,
  match: `m${offset}`,
});

describe('correlation chunks', () => {
  it('incompressible keys just under 16 KiB: every chunk under 350 KB, every key kept', async () => {
    const store = dynamoJobStore(dynamo.client, dynamo.table);
    const rows = Array.from({ length: 120 }, (_, i) => row(i, randomBytes(12_000).toString('base64')));
    const stored = await store.create(unit('u-incompressible', rows.length), rows);

    expect(stored.chunks).toBeGreaterThan(1);
    for (const size of await chunkSizes('u-incompressible', stored.chunks))
      expect(size).toBeLessThan(350_000);
    expect(await store.rows(stored)).toEqual(rows);
  });

  it('a 750 KB key is stored as its digest and length, so its chunk stays small', async () => {
    const store = dynamoJobStore(dynamo.client, dynamo.table);
    const huge = randomBytes(562_500).toString('base64');
    const rows = [row(0, 'k-0'), row(1, huge), row(2, null)];
    const stored = await store.create(unit('u-huge', rows.length), rows);

    const [size] = await chunkSizes('u-huge', stored.chunks);
    expect(size).toBeLessThan(2_000);
    const back = await store.rows(stored);
    expect(back[1]!.key).toMatch(/^sha256:[0-9a-f]{64} \(750000 bytes\)$/);
    expect(back.map((r) => r.key)).toEqual(['k-0', back[1]!.key, null]);
  });
});
