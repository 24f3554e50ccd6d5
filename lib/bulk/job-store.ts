// Bulk units in DynamoDB: the intent and progress of each job submission, the rows the poller needs to
// correlate result files back to Kafka records, and the set of jobs in flight (the concurrency limit).
//
// Correlation rows (topic, partition, offset, key, match key) for a 10,000-record unit can exceed
// DynamoDB's 400 KB item limit when keys are long (a Connect JSON key is ~250 bytes), so they are
// gzip-compressed and split over numbered chunk items of at most 300 KB each. A key over 16 KiB is
// stored as its digest and length (`boundedKey`, what every outcome destination shows for it), so one
// row stays small and a chunk stays under the limit whatever the keys hold. DynamoDB rather than S3:
// one store to provision and grant, strongly consistent reads, and TTL removes everything when done.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Operation } from '../config/index.ts';
import { boundedKey } from '../outcomes/outcome.ts';

/**
 * `continued`: the unit's job ended and some of its rows went on in a follow-up unit (`next`); the unit
 * counts as running until the last unit of its chain is done.
 */
export type UnitState = 'intent' | 'created' | 'uploaded' | 'closed' | 'started' | 'continued' | 'done';

/** One record of a bulk unit as the poller needs it. */
export interface CorrelationRow {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  /** What identifies the record's row in a result file (see `rowMatchKey`). */
  match: string;
}

export interface BulkUnitItem {
  unitKey: string;
  group: string;
  state: UnitState;
  jobId?: string;
  sobject: string;
  operation: Operation;
  externalIdField?: string;
  /** The uploaded columns that identify a record's row in the result files (see `matchColumnsFor`). */
  matchColumns: string[];
  records: number;
  chunks: number;
  /** Outcomes published so far, in correlation order (a re-run of the poller resumes after them). */
  published: number;
  /** 0 for a unit the sink planned; n for the n-th resubmission of rows that failed retryably. */
  attempt: number;
  /** The earlier units of a resubmission chain, first one first (they hold the chain's job slot). */
  chain: string[];
  /** The follow-up unit, once this one is `continued`. */
  next?: string;
  createdAt: string;
}

const CHUNK_BYTES = 300_000;
const DONE_TTL_SECONDS = 8 * 24 * 3600;

/** A unit's identity: the group and its records' coordinates. The same records give the same key. */
export function unitKeyOf(
  group: string,
  coordinates: readonly { topic: string; partition: number; offset: number }[],
): string {
  const hash = createHash('sha256').update(group);
  for (const c of coordinates) hash.update(`\u0000${c.topic}\u0000${c.partition}\u0000${c.offset}`);
  return hash.digest('hex').slice(0, 32);
}

/**
 * Identifies a record's row in a result file from the cells of the columns it was uploaded with.
 * Result files echo the uploaded columns; for update/delete/upsert the addressing column alone is
 * unique within a unit, for insert the whole row is the identity (identical rows are interchangeable).
 */
export function rowMatchKey(cells: readonly string[]): string {
  return createHash('sha1').update(cells.join('\u0001')).digest('base64').slice(0, 16);
}

/** Insert rows are identified by all their cells; other operations by their addressing column. */
export function matchColumnsFor(
  operation: Operation,
  columns: readonly string[],
  externalIdField?: string,
): string[] {
  if (operation === 'insert') return [...columns];
  // The column as the CSV names it (describe's spelling), whatever the letter case in the configuration.
  const named = (field: string) => columns.find((c) => c.toLowerCase() === field.toLowerCase()) ?? field;
  return [named(operation === 'upsert' ? externalIdField! : 'Id')];
}

export interface JobStore {
  /**
   * Takes a slot among `max` concurrent jobs for a recorded unit; false when all are taken.
   * Idempotent per unit.
   */
  acquireSlot(group: string, unitKey: string, max: number): Promise<boolean>;
  releaseSlot(group: string, unitKey: string): Promise<void>;
  /** Bulk jobs holding a slot now (open or being followed). */
  inFlight(group: string): Promise<number>;
  /** Records the intent; a no-op if the unit exists already (returns the stored one). */
  putIntent(
    unit: Omit<BulkUnitItem, 'state' | 'chunks' | 'published' | 'attempt' | 'chain' | 'next'> &
      Partial<Pick<BulkUnitItem, 'attempt' | 'chain'>>,
    rows: readonly CorrelationRow[],
  ): Promise<BulkUnitItem>;
  get(unitKey: string): Promise<BulkUnitItem | undefined>;
  /** Moves a unit forward; `expect` guards against a concurrent writer. */
  advance(
    unitKey: string,
    expect: UnitState,
    next: UnitState,
    fields?: { jobId?: string; next?: string },
  ): Promise<void>;
  rows(unit: BulkUnitItem): Promise<CorrelationRow[]>;
  markPublished(unitKey: string, published: number): Promise<void>;
  /** Forgets a unit whose job never received data (its records will be planned again). */
  abandon(unit: BulkUnitItem): Promise<void>;
}

export class UnitStateConflictError extends Error {
  override name = 'UnitStateConflictError';
  constructor(unitKey: string, expected: UnitState) {
    super(
      `bulk unit ${unitKey} is no longer in state ${expected}: another invocation moved it; this one stops`,
    );
  }
}

/**
 * The job store on the sink's DynamoDB table (partition key `pk`, TTL attribute `ttl`).
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
  const chunkPk = (unitKey: string, n: number) => `bulkrows#${unitKey}#${n}`;
  const slotsPk = (group: string) => `bulkslots#${group}`;

  const expiry = () => Math.floor(now().getTime() / 1000) + DONE_TTL_SECONDS;

  async function writeChunks(unitKey: string, rows: readonly CorrelationRow[]): Promise<number> {
    const encoded = rows.map((r) =>
      JSON.stringify([r.topic, r.partition, r.offset, boundedKey(r.key), r.match]),
    );
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
    for (let i = 0; i < chunks.length; i += 25) {
      let requests: Record<string, unknown>[] = chunks
        .slice(i, i + 25)
        .map((data, j) => ({ PutRequest: { Item: { pk: chunkPk(unitKey, i + j), data, ttl: expiry() } } }));
      while (requests.length > 0) {
        const response = await doc.send(
          new BatchWriteCommand({ RequestItems: { [table]: requests as never } }),
        );
        requests = (response.UnprocessedItems?.[table] ?? []) as Record<string, unknown>[];
      }
    }
    return chunks.length;
  }

  return {
    async acquireSlot(group, unitKey, max) {
      const take = async () => {
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
      };
      if (await take()) return true;
      // Full: free the slots of units that no longer exist (a slot is only taken for a recorded unit,
      // so a missing one was forgotten or expired without releasing it), then try once more.
      const held = await doc.send(
        new GetCommand({ TableName: table, Key: { pk: slotsPk(group) }, ConsistentRead: true }),
      );
      let freed = false;
      for (const key of (held.Item?.units as Set<string> | undefined) ?? []) {
        if (!(await this.get(key))) {
          await this.releaseSlot(group, key);
          freed = true;
        }
      }
      return freed && (await take());
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

    async inFlight(group) {
      const response = await doc.send(
        new GetCommand({ TableName: table, Key: { pk: slotsPk(group) }, ConsistentRead: true }),
      );
      return (response.Item?.units as Set<string> | undefined)?.size ?? 0;
    },

    async putIntent(unit, rows) {
      const existing = await this.get(unit.unitKey);
      if (existing) return existing;
      const chunks = await writeChunks(unit.unitKey, rows);
      const item: BulkUnitItem = { attempt: 0, chain: [], ...unit, state: 'intent', chunks, published: 0 };
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: unitPk(unit.unitKey) },
            UpdateExpression:
              'SET #s = :s, unitKey = :k, #g = :g, sobject = :o, #op = :op, extId = :e, #cols = :cols, #recs = :r, chunks = :c, published = :p, createdAt = :t, #ttl = :ttl, attempt = :a, chain = :ch',
            ConditionExpression: 'attribute_not_exists(pk)',
            ExpressionAttributeNames: {
              '#s': 'state',
              '#g': 'group',
              '#op': 'operation',
              '#cols': 'matchColumns',
              '#recs': 'records',
              '#ttl': 'ttl',
            },
            ExpressionAttributeValues: {
              ':s': 'intent',
              ':k': unit.unitKey,
              ':g': unit.group,
              ':o': unit.sobject,
              ':op': unit.operation,
              ':e': unit.externalIdField ?? null,
              ':cols': unit.matchColumns,
              ':ttl': expiry(),
              ':r': unit.records,
              ':c': chunks,
              ':p': 0,
              ':t': unit.createdAt,
              ':a': item.attempt,
              ':ch': item.chain,
            },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        return (await this.get(unit.unitKey))!;
      }
      return item;
    },

    async get(unitKey) {
      const response = await doc.send(
        new GetCommand({ TableName: table, Key: { pk: unitPk(unitKey) }, ConsistentRead: true }),
      );
      const item = response.Item;
      if (!item) return undefined;
      const unit: BulkUnitItem = {
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
      };
      if (item.next) unit.next = item.next;
      if (item.jobId) unit.jobId = item.jobId;
      if (item.extId) unit.externalIdField = item.extId;
      return unit;
    },

    async advance(unitKey, expect, next, fields = {}) {
      const done = next === 'done';
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk: unitPk(unitKey) },
            UpdateExpression: `SET #s = :n${fields.jobId ? ', jobId = :j' : ''}${fields.next ? ', #next = :x' : ''}${done ? ', #ttl = :ttl' : ''}`,
            ConditionExpression: '#s = :e',
            ExpressionAttributeNames: {
              '#s': 'state',
              ...(done ? { '#ttl': 'ttl' } : {}),
              ...(fields.next ? { '#next': 'next' } : {}),
            },
            ExpressionAttributeValues: {
              ':n': next,
              ':e': expect,
              ...(fields.jobId ? { ':j': fields.jobId } : {}),
              ...(fields.next ? { ':x': fields.next } : {}),
              ...(done ? { ':ttl': Math.floor(now().getTime() / 1000) + DONE_TTL_SECONDS } : {}),
            },
          }),
        );
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException)
          throw new UnitStateConflictError(unitKey, expect);
        throw error;
      }
    },

    async rows(unit) {
      const out: CorrelationRow[] = [];
      for (let n = 0; n < unit.chunks; n++) {
        const response = await doc.send(
          new GetCommand({ TableName: table, Key: { pk: chunkPk(unit.unitKey, n) }, ConsistentRead: true }),
        );
        const data = response.Item?.data as Uint8Array | undefined;
        if (!data) throw new Error(`bulk unit ${unit.unitKey} lacks correlation chunk ${n}`);
        for (const [topic, partition, offset, key, match] of JSON.parse(
          gunzipSync(data).toString('utf8'),
        ) as [string, number, number, string | null, string][]) {
          out.push({ topic, partition, offset, key, match });
        }
      }
      return out;
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

    async abandon(unit) {
      for (let n = 0; n < unit.chunks; n++) {
        await doc.send(new DeleteCommand({ TableName: table, Key: { pk: chunkPk(unit.unitKey, n) } }));
      }
      await doc.send(new DeleteCommand({ TableName: table, Key: { pk: unitPk(unit.unitKey) } }));
      await this.releaseSlot(unit.group, unit.unitKey);
    },
  };
}
