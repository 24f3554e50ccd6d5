// One plan stage's realtime units through sObject Collections, with the ledger writes that make a
// redelivery safe: the stage's records marked `sent` before any call (that write also fences off an
// older invocation), and each unit's results stored before its outcomes are published.
import type { Entry } from '../checkpoint/ledger.ts';
import type { Outcome, OutcomeError } from '../outcomes/outcome.ts';
import {
  outcomeFrom,
  storedOf,
  targetOf,
  unknownDelete,
  unknownInsert,
  unknownWrite,
} from '../outcomes/outcome-of.ts';
import type { WriteUnit } from '../plan/plan.ts';
import {
  ORG_WIDE_RECORD_CODES,
  type OrgCondition,
  type OrgConditionReason,
  runStage,
  StageAbortedError,
} from '../salesforce/index.ts';
import type { RecordResult } from '../salesforce/types.ts';
import type { ShapedRecord } from '../shape/shape.ts';
import { type Invocation, RESERVE_MS } from './invocation.ts';
import { existing, lookupOf } from './settle.ts';

/** What a repeated delete answers when the first one took effect. */
const ALREADY_DELETED = new Set(['ENTITY_IS_DELETED', 'INVALID_CROSS_REFERENCE_KEY', 'NOT_FOUND']);

/**
 * Runs a stage's realtime units (records of partitions already handed back are left for the
 * redelivery). `maybeApplied` holds records an earlier attempt may have written.
 *
 * @example
 * await runRealtimeStage(invocation, stage.filter((u) => u.group.mode === 'realtime'), maybeApplied);
 */
export async function runRealtimeStage(
  invocation: Invocation,
  planned: readonly WriteUnit[],
  maybeApplied: ReadonlySet<ShapedRecord>,
): Promise<void> {
  const { ledger, redelivery, deps, config } = invocation;
  const units = planned
    .map((unit) => ({ ...unit, records: unit.records.filter((r) => !redelivery.isWithheld(r)) }))
    .filter((unit) => unit.records.length > 0);
  if (units.length === 0) return;
  const records = units.flatMap((u) => u.records);
  if (invocation.time.short()) {
    for (const r of records) redelivery.handBack(r);
    return;
  }
  const before = new Map<ShapedRecord, Entry | undefined>(records.map((r) => [r, ledger.entry(r)]));
  // Until the Lambda deadline (and a request timeout for Salesforce to finish what it received) this
  // invocation may be writing these records: a concurrent redelivery waits for that.
  ledger.markSent(records, { by: invocation.id, until: deps.deadline + config.requestTimeout });
  await ledger.save(records);

  const settled = await runStage(
    units,
    (unit) => writeUnit(invocation, unit, before, maybeApplied),
    config.maxInFlight,
  );
  const failures = settled.flatMap((s, i) =>
    s.status === 'rejected' ? [{ unit: units[i]!, reason: s.reason }] : [],
  );
  if (failures.length === 0) return;
  // Units the stage never started sent nothing: their markers go.
  const unsent = failures.filter((f) => f.reason instanceof StageAbortedError).flatMap((f) => f.unit.records);
  for (const r of unsent) ledger.restoreUnsent(r, before.get(r));
  if (unsent.length > 0) await ledger.save(unsent);
  throw failures.find((f) => !(f.reason instanceof StageAbortedError))?.reason ?? failures[0]!.reason;
}

async function writeUnit(
  invocation: Invocation,
  unit: WriteUnit,
  before: ReadonlyMap<ShapedRecord, Entry | undefined>,
  maybeApplied: ReadonlySet<ShapedRecord>,
): Promise<void> {
  const { deps, config, ledger, redelivery, now } = invocation;
  const { operation, sobject } = unit.group;
  // An insert attempt gets its full request timeout once started: none may start that could outlive us.
  const headroom = operation === 'insert' ? config.requestTimeout : 0;
  let results: RecordResult[];
  try {
    results = await deps.salesforce.writeUnit(unit, { deadline: deps.deadline - RESERVE_MS - headroom });
  } catch (error) {
    // writeUnit throws only org-wide refusals (daily limit, login refused) with nothing written.
    for (const r of unit.records) ledger.restoreUnsent(r, before.get(r));
    await ledger.save(unit.records);
    throw error;
  }
  await invocation.after?.('collections-call');

  const outcomes: Outcome[] = [];
  const decide = (record: ShapedRecord, result: Parameters<typeof storedOf>[1]) => {
    const entry = ledger.markApplied(record, storedOf(record, result, now()));
    outcomes.push(outcomeFrom(record, (entry as Extract<Entry, { outcome: unknown }>).outcome));
  };
  const exhausted: { record: ShapedRecord; result: RecordResult }[] = [];
  for (const [i, record] of unit.records.entries()) {
    let result = results[i]!;
    if (
      operation === 'delete' &&
      maybeApplied.has(record) &&
      result.status === 'failed' &&
      result.errors.every((e) => ALREADY_DELETED.has(e.code))
    ) {
      // Our earlier attempt deleted it.
      result = { ...result, status: 'succeeded', errors: [], retryable: false };
    }
    const orgWide = result.status === 'failed' ? orgWideOf(result) : undefined;
    if (orgWide) {
      // The org refused the call, not this record: nothing is counted, it waits for the condition to
      // clear, and a write of it that may have taken effect keeps its marker.
      if (result.maybeApplied || maybeApplied.has(record)) ledger.holdSent(record);
      else ledger.restoreUnsent(record, before.get(record));
      redelivery.handBack(record);
      invocation.hold(orgWide);
      continue;
    }
    if (result.status === 'succeeded' || !result.retryable) {
      decide(record, result);
      continue;
    }
    const error = result.errors[0] ?? { code: 'RETRYABLE', message: '', fields: [] };
    // Written after all? An earlier delivery's attempt, or one of this call's, may have taken effect.
    const lostInsert = operation === 'insert' && result.errors.some((e) => e.code === 'RESPONSE_LOST');
    const mayHaveApplied =
      lostInsert || operation === 'delete' || result.maybeApplied === true || maybeApplied.has(record);
    if (!mayHaveApplied) {
      // Nothing of it is in flight any more, and a replay is idempotent.
      const final = redelivery.retryLater(record, error, targetOf(record));
      if (final) outcomes.push(final);
      continue;
    }
    // The write may have taken effect: the marker stays, so the redelivery checks before writing again.
    if (ledger.handBackSent(record, error, config.maxRedeliveries) === 'handed-back')
      redelivery.handBack(record);
    else exhausted.push({ record, result });
  }
  if (exhausted.length > 0) await settleExhausted(invocation, sobject, operation, exhausted, decide);
  // The results are durable before anything is published: after a crash from here on, the records
  // are never written again and their outcomes are re-published exactly as they were.
  await ledger.save(unit.records);
  await invocation.after?.('applied-saved');
  await invocation.outcomes.publish(outcomes);
}

/**
 * Records whose redeliveries ran out while their last write may have taken effect: whether it did
 * decides the outcome. An insert is looked up by a unique field it carries; a delete is confirmed gone.
 */
async function settleExhausted(
  invocation: Invocation,
  sobject: string,
  operation: string,
  exhausted: readonly { record: ShapedRecord; result: RecordResult }[],
  decide: (record: ShapedRecord, result: Parameters<typeof storedOf>[1]) => void,
): Promise<void> {
  const unknown = (record: ShapedRecord, attempts: number) =>
    decide(record, { status: 'failed', errors: [unknownInsert()], attempts });
  const lastFailure = (record: ShapedRecord, result: RecordResult) =>
    decide(record, { status: 'failed', errors: result.errors, attempts: result.attempts });
  if (operation === 'update' || operation === 'upsert') {
    // Nothing tells one change of a record from another afterwards: the outcome is unknown.
    for (const { record, result } of exhausted)
      decide(record, {
        status: 'failed',
        errors: [unknownWrite(operation, result.errors[0])],
        attempts: result.attempts,
      });
    return;
  }
  if (operation === 'delete') {
    const field = exhausted[0]!.record.address!.field;
    const found = await existing(
      invocation,
      sobject,
      field,
      exhausted.map((e) => e.record.address!.value),
    );
    for (const { record, result } of exhausted) {
      if (!(found instanceof Map))
        decide(record, {
          status: 'failed',
          errors: [unknownDelete(found as OutcomeError)],
          attempts: result.attempts,
        });
      else if (found.get(record.address!.value) === 'absent')
        decide(record, { status: 'succeeded', errors: [], attempts: result.attempts });
      else lastFailure(record, result);
    }
    return;
  }
  const schema = await invocation.deps.salesforce
    .schemaOf(sobject, { deadline: invocation.deps.deadline - RESERVE_MS })
    .catch(() => undefined);
  // One record found settles the first insert that carried its value; another insert with that value,
  // or a value several records have, may or may not have been written.
  const claimed = new Set<string>();
  for (const { record, result } of exhausted) {
    const lookup = schema ? lookupOf(record.fields, schema) : undefined;
    const found = lookup ? await existing(invocation, sobject, lookup.field, [lookup.value]) : undefined;
    const presence = lookup && found instanceof Map ? found.get(lookup.value) : undefined;
    if (!lookup || presence === undefined || presence === 'many') unknown(record, result.attempts);
    else if (presence === 'absent') lastFailure(record, result);
    else if (claimed.has(lookup.value)) unknown(record, result.attempts);
    else {
      claimed.add(lookup.value);
      decide(record, {
        status: 'succeeded',
        salesforceId: presence.id,
        created: true,
        errors: [],
        attempts: result.attempts,
      });
    }
  }
}

/** The org-wide condition that stopped a record: its call's, or the one a record-level code stands for. */
function orgWideOf(result: RecordResult): OrgCondition | undefined {
  if (result.orgWide) return result.orgWide;
  const error = result.errors.find((e) => ORG_WIDE_RECORD_CODES.has(e.code));
  return error ? conditionOfCode(error) : undefined;
}

function conditionOfCode(error: OutcomeError): OrgCondition {
  const reasons: Record<string, OrgConditionReason> = {
    INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE: 'MAINTENANCE',
    API_DISABLED_FOR_ORG: 'API_DISABLED',
    API_CURRENTLY_DISABLED: 'API_DISABLED',
    INVALID_SESSION_ID: 'SESSION_REJECTED',
    AUTHENTICATION_FAILED: 'AUTHENTICATION_FAILED',
  };
  const reason =
    error.code === 'REQUEST_LIMIT_EXCEEDED'
      ? /concurrent/i.test(error.message)
        ? 'CONCURRENCY_LIMIT'
        : 'DAILY_API_LIMIT'
      : (reasons[error.code] ?? 'AUTHENTICATION_FAILED');
  return { reason, message: error.message };
}
