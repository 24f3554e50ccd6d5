// The org health item in the sink's DynamoDB table, one per deployment (consumer group).
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  DEFAULT_PACING,
  type HoldPacing,
  holdBackoff,
  type OrgHealth,
  type OrgHealthStore,
} from './health.ts';

const key = (group: string) => ({ pk: `orghealth#${group}` });

/**
 * The org health store on the sink's table (partition key `pk`).
 *
 * @example
 * const health = dynamoOrgHealthStore(new DynamoDBClient({}), process.env.SFSINK_TABLE!);
 */
export function dynamoOrgHealthStore(
  client: DynamoDBClient,
  table: string,
  pacing: HoldPacing = DEFAULT_PACING,
): OrgHealthStore {
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const get = async (group: string): Promise<OrgHealth | undefined> => {
    const response = await doc.send(
      new GetCommand({ TableName: table, Key: key(group), ConsistentRead: true }),
    );
    const item = response.Item;
    if (!item) return undefined;
    return {
      reason: item.reason,
      message: item.message,
      since: item.since,
      attempts: item.attempts,
      nextTryAt: item.nextTryAt,
      version: item.version,
      ...(item.episode ? { episode: item.episode } : {}),
    };
  };
  return {
    pacing,
    get,
    async report(group, condition, now) {
      for (;;) {
        const current = await get(group);
        const attempts = (current?.attempts ?? 0) + 1;
        const next: OrgHealth = {
          ...condition,
          since: current?.since ?? new Date(now).toISOString(),
          attempts,
          nextTryAt: Math.max(current?.nextTryAt ?? 0, now + holdBackoff(attempts, pacing)),
          version: (current?.version ?? 0) + 1,
          episode: current?.episode ?? randomUUID(),
        };
        try {
          await doc.send(
            new PutCommand({
              TableName: table,
              Item: { ...key(group), ...next },
              ConditionExpression: current ? 'version = :v' : 'attribute_not_exists(pk)',
              ...(current ? { ExpressionAttributeValues: { ':v': current.version } } : {}),
            }),
          );
          return next;
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      }
    },
    async claimProbe(group, seen, now) {
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: key(group),
            UpdateExpression: 'SET nextTryAt = :n, version = :next',
            ConditionExpression: 'version = :v',
            ExpressionAttributeValues: {
              ':n': now + holdBackoff(seen.attempts + 1, pacing),
              ':v': seen.version,
              ':next': seen.version + 1,
            },
          }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
    async clear(group, claimed) {
      try {
        await doc.send(
          new DeleteCommand({
            TableName: table,
            Key: key(group),
            // Only a report raises `attempts` (a probe's claim does not); a new run of the condition has
            // another episode.
            ...(claimed
              ? {
                  ConditionExpression:
                    claimed.episode === undefined
                      ? 'attempts = :a AND attribute_not_exists(episode)'
                      : 'attempts = :a AND episode = :e',
                  ExpressionAttributeValues: {
                    ':a': claimed.attempts,
                    ...(claimed.episode === undefined ? {} : { ':e': claimed.episode }),
                  },
                }
              : {}),
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },
  };
}
