import { GetItemCommand, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbLocalError, startDynamoDbLocal, startLocalDynamo } from './dynamodb.ts';

describe('the test suite’s DynamoDB', () => {
  it('is AWS’s DynamoDB Local (transactions work, which dynalite lacks), a table per caller', async () => {
    const [a, b] = await Promise.all([startLocalDynamo(), startLocalDynamo()]);
    try {
      expect(a.engine).toBe('dynamodb-local');
      expect(a.table).not.toBe(b.table);
      await a.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [{ Put: { TableName: a.table, Item: { pk: { S: 'x' } } } }],
        }),
      );
      const item = await a.client.send(new GetItemCommand({ TableName: a.table, Key: { pk: { S: 'x' } } }));
      expect(item.Item).toEqual({ pk: { S: 'x' } });
      const other = await b.client.send(new GetItemCommand({ TableName: b.table, Key: { pk: { S: 'x' } } }));
      expect(other.Item).toBeUndefined();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('dynalite serves `npm start` when no DynamoDB Local endpoint is given', async () => {
    const dynamo = await startLocalDynamo('sfsink', { env: {} });
    try {
      expect(dynamo.engine).toBe('dynalite');
      expect(dynamo.table).toBe('sfsink');
    } finally {
      await dynamo.close();
    }
  });

  it('fails, naming the fix, when java cannot be run', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await expect(startDynamoDbLocal()).rejects.toThrow(DynamoDbLocalError);
      await expect(startDynamoDbLocal()).rejects.toThrow(/openjdk-17-jre-headless/);
    } finally {
      process.env.PATH = path;
    }
  });
});
