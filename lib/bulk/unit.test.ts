// The unit's transition table through random histories against a small model of it, on the DynamoDB
// store (dynalite): allowed transitions move the unit as the table says, anything else throws
// UnitTransitionError, and a writer holding a stale copy loses with UnitStateConflictError (its abandon too).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamo, startLocalDynamo } from '../../local/stand-ins/dynamodb.ts';
import { dynamoJobStore } from './dynamodb-store.ts';
import { UnitStateConflictError, UnitTransitionError } from './errors.ts';
import type { BulkUnit, UnitState } from './store.ts';
import { executionOf, holdsSlot, mayStillBeProcessing, unitLifecycle } from './unit.ts';

let dynamo: LocalDynamo;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => {
  await dynamo.close();
});

type Transition =
  | 'markCreating'
  | 'markCreated'
  | 'markUploaded'
  | 'markClosed'
  | 'markStarted'
  | 'follow'
  | 'markCollected'
  | 'giveUpResubmission'
  | 'markContinued'
  | 'markDone'
  | 'abandon';

/** The table of unit.ts: from which states each transition is allowed, and where it leads. */
const TABLE: Record<Transition, { from: UnitState[]; to?: UnitState }> = {
  markCreating: { from: ['intent'] },
  markCreated: { from: ['intent'], to: 'created' },
  markUploaded: { from: ['created'], to: 'uploaded' },
  markClosed: { from: ['uploaded'], to: 'closed' },
  markStarted: { from: ['closed'], to: 'started' },
  follow: { from: ['closed', 'started', 'collected'] },
  markCollected: { from: ['closed', 'started'], to: 'collected' },
  giveUpResubmission: { from: ['collected'] },
  markContinued: { from: ['collected'], to: 'continued' },
  markDone: { from: ['collected', 'continued', 'done'], to: 'done' },
  abandon: { from: ['intent', 'created', 'uploaded'] },
};

describe('bulk unit transitions', () => {
  it('follow the table in unit.ts through random histories', async () => {
    const store = dynamoJobStore(dynamo.client, dynamo.table);
    const units = unitLifecycle(store);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...(Object.keys(TABLE) as Transition[])), { minLength: 1, maxLength: 14 }),
        async (history) => {
          let unit: BulkUnit | undefined = await units.recordIntent(
            {
              unitKey: `unit-${n++}`,
              group: 'g',
              sobject: 'Lead',
              operation: 'insert',
              matchColumns: ['LastName'],
              records: 1,
              createdAt: new Date().toISOString(),
            },
            [{ topic: 't', partition: 0, offset: 0, key: null, match: 'm' }],
          );
          for (const transition of history) {
            if (!unit) break;
            const before: BulkUnit = unit;
            const allowed = TABLE[transition].from.includes(before.state);
            const run = async (): Promise<BulkUnit | undefined> => {
              switch (transition) {
                case 'markCreating':
                  return units.markCreating(before, new Date());
                case 'markCreated':
                  return units.markCreated(before, `750-${before.unitKey}`);
                case 'markUploaded':
                  return units.markUploaded(before);
                case 'markClosed':
                  return units.markClosed(before);
                case 'markStarted':
                  return units.markStarted(before, executionOf(before));
                case 'follow':
                  return units.follow(before, executionOf(before), `${executionOf(before)}-x`, true);
                case 'markCollected':
                  return units.markCollected(
                    before,
                    { state: 'JobComplete', at: new Date().toISOString(), followUp: 'wanted' },
                    [{ status: 'succeeded', errors: [] }],
                  );
                case 'giveUpResubmission':
                  return units.giveUpResubmission(before);
                case 'markContinued':
                  return units.markContinued(before, 'next-unit');
                case 'markDone':
                  return units.markDone(before);
                case 'abandon':
                  await units.abandon(before);
                  return undefined;
              }
            };
            if (!allowed) {
              await expect(run(), `${transition} from ${before.state}`).rejects.toBeInstanceOf(
                UnitTransitionError,
              );
              continue;
            }
            unit = await run();
            const stored = await units.get(before.unitKey);
            if (transition === 'abandon') {
              expect(stored).toBeUndefined();
              break;
            }
            expect(stored?.state).toBe(TABLE[transition].to ?? before.state);
            expect(stored).toEqual(unit);
            expect(holdsSlot(stored)).toBe(stored!.state !== 'done');
            expect(mayStillBeProcessing(stored!)).toBe(['closed', 'started'].includes(stored!.state));
            // A copy from before this transition is stale: the same write from it loses to this one.
            const to = TABLE[transition].to;
            if ((to && to !== before.state) || transition === 'follow')
              await expect(run()).rejects.toBeInstanceOf(UnitStateConflictError);
            // Nor can such a copy abandon (remove) the unit another writer moved on.
            if (to && to !== before.state && TABLE.abandon.from.includes(before.state))
              await expect(units.abandon(before)).rejects.toBeInstanceOf(UnitStateConflictError);
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);

  it('lets only the execution that follows a unit hand it over or record a failure', async () => {
    const units = unitLifecycle(dynamoJobStore(dynamo.client, dynamo.table));
    let unit = await units.recordIntent(
      {
        unitKey: 'followed',
        group: 'g',
        sobject: 'Lead',
        operation: 'insert',
        matchColumns: ['LastName'],
        records: 1,
        createdAt: new Date().toISOString(),
      },
      [],
    );
    unit = await units.markClosed(await units.markUploaded(await units.markCreated(unit, 'JOB1')));
    unit = await units.markStarted(unit, 'JOB1');
    const stale = unit;
    unit = await units.follow(unit, 'JOB1', 'JOB1-1', true);
    expect(unit).toMatchObject({ execution: 'JOB1-1', successors: 1 });
    await expect(units.follow(stale, 'JOB1', 'JOB1-2', true)).rejects.toBeInstanceOf(UnitStateConflictError);
    const ignored = await units.recordFailure(unit, { at: '', execution: 'JOB1', error: 'x', cause: '' });
    expect(ignored.failure).toBeUndefined();
    const recorded = await units.recordFailure(unit, { at: '', execution: 'JOB1-1', error: 'x', cause: '' });
    expect((await units.get('followed'))?.failure).toEqual(recorded.failure);
  });
});
