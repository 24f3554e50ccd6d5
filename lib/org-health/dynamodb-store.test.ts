// The org health item: one probe at a time, and a clear that never forgets a newer report.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, startLocalDynamo } from '../../local/stand-ins/dynamodb.ts';
import { dynamoOrgHealthStore } from './dynamodb-store.ts';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(() => dynamo.close());

const limit = { reason: 'DAILY_API_LIMIT' as const, message: 'TotalRequests Limit exceeded.' };

/** The condition reported, then claimed by probe A and, after its try was due again, by probe B. */
async function claimedTwice(group: string) {
  const health = dynamoOrgHealthStore(dynamo.client, dynamo.table);
  const seenA = await health.report(group, limit, Date.now());
  expect(await health.claimProbe(group, seenA, Date.now())).toBe(true);
  const seenB = (await health.get(group))!;
  expect(await health.claimProbe(group, seenB, Date.now())).toBe(true);
  return { health, seenA, seenB };
}

describe('org health', () => {
  it('lets exactly one of the invocations that try at once probe', async () => {
    const health = dynamoOrgHealthStore(dynamo.client, dynamo.table);
    const seen = await health.report('one-probe', limit, Date.now());
    const claims = await Promise.all([1, 2, 3].map(() => health.claimProbe('one-probe', seen, Date.now())));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('a probe that succeeded clears the condition it claimed', async () => {
    const health = dynamoOrgHealthStore(dynamo.client, dynamo.table);
    const seen = await health.report('cleared', limit, Date.now());
    expect(await health.claimProbe('cleared', seen, Date.now())).toBe(true);
    await health.clear('cleared', seen);
    expect(await health.get('cleared')).toBeUndefined();
  });

  it('a probe that succeeded does not forget a report made after its claim', async () => {
    const health = dynamoOrgHealthStore(dynamo.client, dynamo.table);
    const seen = await health.report('reported-again', limit, Date.now());
    expect(await health.claimProbe('reported-again', seen, Date.now())).toBe(true);
    // Another invocation meets the condition again meanwhile.
    await health.report('reported-again', limit, Date.now());
    await health.clear('reported-again', seen);
    expect((await health.get('reported-again'))?.attempts).toBe(2);
  });

  it('a probe that succeeded clears the condition although another probe claimed since (no report)', async () => {
    const { health, seenA } = await claimedTwice('claimed-twice');
    await health.clear('claimed-twice', seenA);
    expect(await health.get('claimed-twice')).toBeUndefined();
  });

  it('a late probe never clears the condition met anew after another probe cleared it', async () => {
    const { health, seenA, seenB } = await claimedTwice('met-anew');
    await health.clear('met-anew', seenB);
    await health.report('met-anew', limit, Date.now());
    await health.clear('met-anew', seenA);
    expect((await health.get('met-anew'))?.reason).toBe('DAILY_API_LIMIT');
  });
});
