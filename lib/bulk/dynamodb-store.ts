// Bulk units in DynamoDB (the sink's table: partition key `pk`, TTL attribute `ttl`): one item per unit,
// its correlation rows and row results in numbered chunk items, one item per recorded job id, and one
// item per group listing the units holding a job slot.
//
// Correlation rows (topic, partition, offset, key, match key) of a 10,000-record unit can exceed
// DynamoDB's 400 KB item limit when keys are long (a Connect JSON key is ~250 bytes), so rows and results
// are gzip-compressed and split over chunk items of at most 300 KB each. DynamoDB rather than S3: one store
// to provision and grant, strongly consistent reads, and TTL removes everything when done.
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { CsvRow } from '../csv/index.ts';
import type { OutcomeError } from '../outcomes/outcome.ts';
import { boundedKey } from '../outcomes/outcome.ts';
import { UnitStateConflictError } from './errors.ts';
import type { BulkUnit, JobStore, RowResult, UnitChanges } from './store.ts';

const CHUNK_BYTES = 300_000;
/** A unit lives past Salesforce's 7-day job lifetime while it is being followed; a done one 8 days more. */
const UNIT_TTL_SECONDS = 14 * 24 * 3600;
const DONE_TTL_SECONDS = 8 * 24 * 3600;

/** Attribute names of the unit item that differ from the field names (or are DynamoDB reserved words). */
const ATTRIBUTE: Partial<Record<keyof BulkUnit, string>> = { externalIdField: 'extId' };

type StoredRow = [string, number, number, string | null, string];
type StoredResult = [0 | 1, string | null, boolean | null, OutcomeError[], CsvRow | null];

/**
 * The job store on the sink's DynamoDB table.
 *
 * @example
 * const jobs = dynamoJobStore(new DynamoDBClient({}), process.env.SFSINK_TABLE!);
 */
export function dynamoJobStore(
  client: DynamoDBClient,
  table: string,
  now: () => Date = () => new Date(),
): JobStore {
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const unitPk = (unitKey: string) => `bulk#${unitKey}`;
  const rowsPk = (unitKey: string, n: number) => `bulkrows#${unitKey}#${n}`;
  const resultsPk = (unitKey: string, n: number) => `bulkresults#${unitKey}#${n}`;
  const jobPk = (jobId: string) => `bulkjob#${jobId}`;
  const slotsPk = (group: string) => `bulkslots#${group}`;
  const expiry = (seconds: number) => Math.floor(now().getTime() / 1000) + seconds;

  /** Writes JSON values as gzip chunks of at most CHUNK_BYTES under `pk(n)`; returns how many. */
  async function writeChunks(values: readonly unknown[], pk: (n: number) => string): Promise<number> {
    const encoded = values.map((v) => JSON.stringify(v));
    const chunks: Uint8Array[] = [];
    let start = 0;
    while (start < encoded.length) {
      // Grow the slice while its compressed size stays under the chunk limit.
      let end = Math.min(encoded.length, start + 2000);
      let body = gzipSync(`[${encoded.slice(start, end).join(',')}]`);
      while (body.length > CHUNK_BYTES && end - start > 1) {
        end = start + Math.floor((end - start) / 2);
        body = gzipSync(`[${encoded.slice(start, end).join(',')}]`);
      }
      chunks.push(body);
      start = end;
    }
    const ttl = expiry(UNIT_TTL_SECONDS);
    for (let i = 0; i < chunks.length; i += 25) {
      let requests: Record<string, unknown>[] = chunks
        .slice(i, i + 25)
        .map((data, j) => ({ PutRequest: { Item: { pk: pk(i + j), data, ttl } } }));
      while (requests.length > 0) {
        const response = await doc.send(
          new BatchWriteCommand({ RequestItems: { [table]: requests as never } }),
        );
        requests = (response.UnprocessedItems?.[table] ?? []) as Record<string, unknown>[];
      }
    }
    return chunks.length;
  }

  async function readChunks<T>(count: number, pk: (n: number) => string, what: string): Promise<T[]> {
    const out: T[] = [];
    for (let n = 0; n < count; n++) {
      const response = await doc.send(
        new GetCommand({ TableName: table, Key: { pk: pk(n) }, ConsistentRead: true }),
      );
      const data = response.Item?.data as Uint8Array | undefined;
      if (!data) throw new Error(`bulk store: ${what} chunk ${n} is missing`);
      out.push(...(JSON.parse(gunzipSync(data).toString('utf8')) as T[]));
    }
    return out;
  }

  async function take(group: string, unitKey: string, max: number): Promise<boolean> {
    try {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: slotsPk(group) },
          UpdateExpression: 'ADD units :u',
          ConditionExpression: 'attribute_not_exists(units) OR size(units) < :max OR contains(units, :k)',
          ExpressionAttributeValues: { ':u': new Set([unitKey]), ':max': max, ':k': unitKey },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  const store: JobStore = {
    async create(unit, rows) {
      const existing = await store.get(unit.unitKey);
      if (existing) return existing;
      // A key over 16 KiB is stored as its digest and length (what every outcome destination shows for
      // it): a row stays small, and a chunk under the item limit whatever the keys hold.
      const encoded: StoredRow[] = rows.map((r) => [
        r.topic,
        r.partition,
        r.offset,
        boundedKey(r.key),
        r.match,
      ]);
      const chunks = await writeChunks(encoded, (n) => rowsPk(unit.unitKey, n));
      const item: BulkUnit = { ...unit, chunks };
      const attributes: Record<string, unknown> = { pk: unitPk(unit.unitKey), ttl: expiry(UNIT_TTL_SECONDS) };
      for (const [key, value] of Object.entries(item))
        attributes[ATTRIBUTE[key as keyof BulkUnit] ?? key] = value;
      try {
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: attributes,
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        return (await store.get(unit.unitKey))!;
      }
      return item;
    },

    async get(unitKey) {
      const response = await doc.send(
        new GetCommand({ TableName: table, Key: { pk: unitPk(unitKey) }, ConsistentRead: true }),
      );
      const item = response.Item;
      if (!item) return undefined;
      const unit: BulkUnit = {
        unitKey: item.unitKey,
        group: item.group,
        state: item.state,
        sobject: item.sobject,
        operation: item.operation,
        matchColumns: item.matchColumns,
        records: item.records,
        chunks: item.chunks,
        published: item.published,
        createdAt: item.createdAt,
        attempt: item.attempt ?? 0,
        chain: item.chain ?? [],
        successors: item.successors ?? 0,
        resultChunks: item.resultChunks ?? 0,
      };
      for (const key of [
        'jobId',
        'next',
        'creatingSince',
        'execution',
        'failure',
        'ended',
        'held',
      ] as const) {
        if (item[key] !== undefined && item[key] !== null)
          (unit as unknown as Record<string, unknown>)[key] = item[key];
      }
      if (item.extId) unit.externalIdField = item.extId;
      return unit;
    },

    async write(unitKey, guard, changes, expire = false) {
      const names: Record<string, string> = { '#s': 'state' };
      const values: Record<string, unknown> = { ':expect': guard.state };
      const set: string[] = [];
      const remove: string[] = [];
      let i = 0;
      for (const [key, value] of Object.entries(changes) as [keyof UnitChanges, unknown][]) {
        const name = `#a${i}`;
        names[name] = key;
        if (value === undefined) remove.push(name);
        else {
          values[`:v${i}`] = value;
          set.push(`${name} = :v${i}`);
        }
        i++;
      }
      if (expire) {
        names['#ttl'] = 'ttl';
        values[':ttl'] = expiry(DONE_TTL_SECONDS);
        set.push('#ttl = :ttl');
      }
      let condition = '#s = :expect';
      if (guard.execution !== undefined) {
        names['#exec'] = 'execution';
        if (guard.execution === null) condition += ' AND attribute_not_exists(#exec)';
        else {
          values[':exec'] = guard.execution;
          condition += ' AND #exec = :exec';
        }
      }
      const expression = [
        set.length ? `SET ${set.join(', ')}` : '',
        remove.length ? `REMOVE ${remove.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' ');
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: unitPk(unitKey) },
            UpdateExpression: expression,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException)
          throw new UnitStateConflictError(
            unitKey,
            `${guard.state}${guard.execution ? ` followed by ${guard.execution}` : ''}`,
          );
        throw error;
      }
    },

    async markPublished(unitKey, published) {
      await doc
        .send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: unitPk(unitKey) },
            UpdateExpression: 'SET published = :p',
            ConditionExpression: 'published < :p',
            ExpressionAttributeValues: { ':p': published },
          }),
        )
        .catch((error) => {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        });
    },

    async remove(unit) {
      // Only the unit as it was read goes: another writer that moved it on (set its job up, closed it)
      // keeps it. Its rows stay until their TTL: a unit recorded again under the same key writes them anew.
      try {
        await doc.send(
          new DeleteCommand({
            TableName: table,
            Key: { pk: unitPk(unit.unitKey) },
            ConditionExpression:
              unit.jobId === undefined
                ? '#s = :s AND attribute_not_exists(jobId)'
                : '#s = :s AND jobId = :job',
            ExpressionAttributeNames: { '#s': 'state' },
            ExpressionAttributeValues: {
              ':s': unit.state,
              ...(unit.jobId === undefined ? {} : { ':job': unit.jobId }),
            },
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException)
          throw new UnitStateConflictError(
            unit.unitKey,
            `${unit.state}${unit.jobId ? ` with job ${unit.jobId}` : ''}`,
          );
        throw error;
      }
    },

    async rows(unit) {
      const stored = await readChunks<StoredRow>(
        unit.chunks,
        (n) => rowsPk(unit.unitKey, n),
        `unit ${unit.unitKey} rows`,
      );
      return stored.map(([topic, partition, offset, key, match]) => ({
        topic,
        partition,
        offset,
        key,
        match,
      }));
    },

    putResults(unitKey, results) {
      const encoded: StoredResult[] = results.map((r) => [
        r.status === 'succeeded' ? 1 : 0,
        r.salesforceId ?? null,
        r.created ?? null,
        r.errors,
        r.again ?? null,
      ]);
      return writeChunks(encoded, (n) => resultsPk(unitKey, n));
    },

    async results(unit) {
      const stored = await readChunks<StoredResult>(
        unit.resultChunks,
        (n) => resultsPk(unit.unitKey, n),
        `unit ${unit.unitKey} results`,
      );
      return stored.map(([ok, salesforceId, created, errors, again]) => {
        const result: RowResult = { status: ok ? 'succeeded' : 'failed', errors };
        if (salesforceId) result.salesforceId = salesforceId;
        if (created !== null) result.created = created;
        if (again) result.again = again;
        return result;
      });
    },

    async recordJob(jobId, unitKey) {
      await doc.send(
        new PutCommand({
          TableName: table,
          Item: { pk: jobPk(jobId), unitKey, ttl: expiry(UNIT_TTL_SECONDS) },
        }),
      );
    },

    async recordedJobs(jobIds) {
      const found = new Set<string>();
      for (let i = 0; i < jobIds.length; i += 100) {
        let keys: Record<string, unknown>[] = [...new Set(jobIds.slice(i, i + 100))].map((id) => ({
          pk: jobPk(id),
        }));
        while (keys.length > 0) {
          const response = await doc.send(
            new BatchGetCommand({ RequestItems: { [table]: { Keys: keys as never, ConsistentRead: true } } }),
          );
          for (const item of response.Responses?.[table] ?? [])
            found.add(String(item.pk).slice('bulkjob#'.length));
          keys = (response.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
        }
      }
      return found;
    },

    async acquireSlot(group, unitKey, max) {
      return take(group, unitKey, max);
    },

    async releaseSlot(group, unitKey) {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: { pk: slotsPk(group) },
          UpdateExpression: 'DELETE units :u',
          ExpressionAttributeValues: { ':u': new Set([unitKey]) },
        }),
      );
    },

    async slotHolders(group) {
      const response = await doc.send(
        new GetCommand({ TableName: table, Key: { pk: slotsPk(group) }, ConsistentRead: true }),
      );
      return [...((response.Item?.units as Set<string> | undefined) ?? [])];
    },

    async inFlight(group) {
      return (await store.slotHolders(group)).length;
    },
  };
  return store;
}
