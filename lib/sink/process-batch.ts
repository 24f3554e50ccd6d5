// One invocation of the sink: a Kafka batch in, Salesforce writes and outcomes out, and the
// partial-batch response that tells the event source mapping what to deliver again.
//
// Exactly once rests on the delivery ledger (lib/checkpoint/ledger.ts: the entry states, their
// transitions and the checkpoint writes). The steps, in order:
// 1. open:      load the partitions' checkpoints; skip what is finished.
// 2. stored:    a record whose outcome is stored is published again as stored — whatever the
//               configuration or the describe say now; a record an earlier invocation may still be
//               writing waits (or is handed back) until that invocation is gone.
// 3. prepare:   describe the sObjects, then decode → resolve → shape the rest (a field the cached
//               describe lacks gets one fresh describe first). Rejections are stored before they are
//               published, so a redelivery says the same.
// 4. settle:    an insert that was sent but whose answer was lost is looked up by a unique field it
//               carries (found → succeeded, not found → sent again; no such field → OUTCOME_UNKNOWN).
// 5. bulk:      resume the bulk units an earlier invocation started (now and then also: start a
//               successor for a unit of the group whose execution has ended).
// 6. write:     plan the rest and run it stage by stage (realtime.ts; bulk units: lib/bulk/submission.ts).
// 7. finish:    anything neither finished nor handed back is handed back; move the watermarks, save,
//               answer which partitions to deliver again.
// A retryable failure hands the record's partition back from its offset; later records of that
// partition wait (order per key), and after `maxRedeliveries` the record fails with its last error.
import { bulkSubmission, type Resumable } from '../bulk/submission.ts';
import { advance, type Entry, mayStillBeWriting } from '../checkpoint/ledger.ts';
import { scopeOf } from '../checkpoint/store.ts';
import { type MappingProblem, mappingProblem, unknownSObject } from '../config/org-check.ts';
import { decodeValue, type LambdaKafkaEvent, recordsOfEvent } from '../decode/index.ts';
import { silentLogger } from '../logger.ts';
import { holdBackoff } from '../org-health/health.ts';
import type { Outcome, OutcomeError } from '../outcomes/outcome.ts';
import {
  errorOf,
  type OutcomeSubject,
  outcomeFrom,
  storedFailure,
  storedFromLegacy,
  storedOf,
  storedRejection,
  targetOf,
  unknownAfterChange,
  unknownInsert,
} from '../outcomes/outcome-of.ts';
import { shapeResolved, sobjectsWithUnknownFields } from '../pipeline.ts';
import { planWrites } from '../plan/plan.ts';
import type { KafkaRecord, Rejection } from '../records.ts';
import { isRejection, partitionId } from '../records.ts';
import { type ResolvedRecord, resolveRecord } from '../resolve/resolve.ts';
import { isOrgWide, type OrgCondition, orgConditionOf, SalesforceApiError } from '../salesforce/index.ts';
import type { SalesforceClient } from '../salesforce/types.ts';
import type { ShapedRecord } from '../shape/shape.ts';
import type { SObjectSchema } from '../shape/sobject-schema.ts';
import {
  type BatchResult,
  type Invocation,
  openInvocation,
  RESERVE_MS,
  type SinkDeps,
} from './invocation.ts';
import { runRealtimeStage } from './realtime.ts';
import { existing, lookupOf } from './settle.ts';

export {
  type BatchItemFailure,
  type BatchResult,
  type BatchSummary,
  InjectedCrash,
  type SinkDeps,
  type Step,
} from './invocation.ts';

/** A record still to be handled, with the state it arrived in. */
interface Pending {
  record: KafkaRecord;
  entry: Entry | undefined;
}

/** What a pending record came to after preparation. */
type Prepared =
  | { kind: 'shaped'; record: ShapedRecord }
  | { kind: 'rejected'; rejection: Rejection; resolved?: ResolvedRecord }
  /** Its sObject could not be described: shaping would be blind. */
  | { kind: 'undescribed'; resolved: ResolvedRecord; failure: OutcomeError }
  /** Its mapping cannot work with the org as it is (no such sObject, no such external id field). */
  | { kind: 'invalid'; resolved: ResolvedRecord; problem: MappingProblem };

/**
 * Processes one Lambda Kafka event end to end. When Salesforce refuses the sink for a reason of the
 * whole org (credentials, limits, unreachable, maintenance), no record fails and none spends its
 * redelivery budget: the invocation waits for the condition to clear while its deadline allows (paced
 * with every other invocation through the org health item), then hands its partitions back.
 *
 * @example
 * export const handler = (event, context) =>
 *   processBatch(event, { ...deps, deadline: Date.now() + context.getRemainingTimeInMillis() });
 */
export async function processBatch(event: LambdaKafkaEvent, deps: SinkDeps): Promise<BatchResult> {
  const log = deps.logger ?? silentLogger;
  const waitUntil = Math.min(
    deps.deadline - RESERVE_MS - HOLD_WORK_MS,
    Date.now() + (deps.holdMaxWaitMs ?? Number.POSITIVE_INFINITY),
  );
  let logged = false;
  for (;;) {
    const health = await deps.health?.get(deps.group);
    if (health && Date.now() < health.nextTryAt) {
      // Another invocation met the condition: nobody calls Salesforce before the next try.
      if (health.nextTryAt > waitUntil) return heldBatch(event, health);
      await sleep(health.nextTryAt - Date.now());
      continue;
    }
    // Of the invocations waiting for the next try, one probes; the others wait for what it finds.
    if (health && !(await deps.health!.claimProbe(deps.group, health, Date.now()))) continue;
    const { calledSalesforce, ...result } = await processOnce(event, deps);
    if (!result.held) {
      // Only an answer from Salesforce says the condition cleared (a batch that needed no call says nothing).
      if (health && calledSalesforce) {
        await deps.health!.clear(deps.group, health);
        log.info('Salesforce accepts the sink again: the held stream resumes', { reason: health.reason });
      }
      return result;
    }
    const reported = deps.health ? await deps.health.report(deps.group, result.held, Date.now()) : undefined;
    const nextTryAt = reported?.nextTryAt ?? Date.now() + holdBackoff(1);
    if (!logged) {
      logged = true;
      log.warn(
        `Salesforce refuses the sink org-wide (${result.held.reason}); nothing fails, the stream is held: ${result.held.message}`,
        {
          reason: result.held.reason,
          nextTryAt: new Date(nextTryAt).toISOString(),
        },
      );
    }
    if (nextTryAt > waitUntil) return result;
    await sleep(nextTryAt - Date.now());
  }
}

/** Time an invocation keeps for work after a held wait: it does not wait past its deadline less this. */
const HOLD_WORK_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** The answer for a batch held before anything ran: every partition back from its first record. */
function heldBatch(
  event: LambdaKafkaEvent,
  condition: OrgCondition,
  records = recordsOfEvent(event),
): BatchResult {
  const from = new Map<string, number>();
  for (const r of records) {
    const partition = partitionId(r);
    from.set(partition, Math.min(from.get(partition) ?? r.offset, r.offset));
  }
  const summary = {
    records: records.length,
    skipped: 0,
    succeeded: 0,
    failed: 0,
    rejected: 0,
    tracked: 0,
    handedBack: records.length,
    checkpointLag: 0,
    byTarget: {},
    invalidMappings: {},
  };
  return {
    batchItemFailures: [...from].map(([partition, offset]) => ({ itemIdentifier: { partition, offset } })),
    summary,
    held: { reason: condition.reason, message: condition.message },
  };
}

/**
 * One attempt at the batch: the steps below, stopped (everything unfinished handed back) by an org-wide
 * condition. `calledSalesforce`: whether Salesforce answered any call of it without such a condition.
 */
async function processOnce(
  event: LambdaKafkaEvent,
  sinkDeps: SinkDeps,
): Promise<BatchResult & { calledSalesforce?: boolean }> {
  const records = recordsOfEvent(event);
  let salesforce: SalesforceClient;
  try {
    salesforce =
      typeof sinkDeps.salesforce === 'function' ? await sinkDeps.salesforce() : sinkDeps.salesforce;
  } catch (error) {
    const condition = orgConditionOf(error);
    if (!condition) throw error;
    return heldBatch(event, condition, records);
  }
  const deps = { ...sinkDeps, salesforce };
  const calls = salesforce.callCount();
  const invocation = await openInvocation(deps, scopeOf(deps.group, event), records);
  const { ledger, summary } = invocation;

  const pending: Pending[] = [];
  for (const record of records) {
    if (ledger.isFinished(record)) summary.skipped++;
    else pending.push({ record, entry: ledger.entry(record) });
  }
  try {
    await runSteps(invocation, records, pending);
  } catch (error) {
    const condition = orgConditionOf(error);
    if (!condition) throw error;
    invocation.hold(condition);
  }
  if (!invocation.held)
    return {
      ...(await finish(invocation, records, pending)),
      calledSalesforce: salesforce.callCount() > calls,
    };
  for (const { record } of pending) if (!ledger.isFinished(record)) invocation.redelivery.handBack(record);
  return { ...(await finish(invocation, records, pending)), held: invocation.held };
}

/** Steps 2–6 over the records still pending. */
async function runSteps(
  invocation: Invocation,
  records: readonly KafkaRecord[],
  pending: Pending[],
): Promise<void> {
  const decided: Outcome[] = [];
  const open = await takeStored(invocation, pending, decided);
  const schemas = await describeAll(invocation, open);
  const prepared = await prepareAll(invocation, open, schemas);
  const sorted = sort(invocation, open, prepared, decided);
  const { maybeApplied, resumable } = sorted;
  const resent = await settleUncertainInserts(invocation, sorted.uncertainInserts, schemas, decided);
  await publishDecided(invocation, decided);
  // The planner keeps each key's changes in the order it is given them: delivery order.
  const position = new Map(records.map((r, i) => [`${partitionId(r)}#${r.offset}`, i]));
  const plannable = [...sorted.plannable, ...resent].sort(
    (a, b) => position.get(`${partitionId(a)}#${a.offset}`)! - position.get(`${partitionId(b)}#${b.offset}`)!,
  );

  const bulk = bulkSubmission(invocation);
  await bulk.resume(resumableOf(resumable));

  const plan = planWrites(plannable, { bulkUnitSize: invocation.config.bulk.batchSize });
  for (const stage of plan.stages) {
    if (invocation.held) return;
    const realtime = stage.filter((u) => u.group.mode === 'realtime');
    await bulk.holdBehindJobs(realtime.flatMap((u) => u.records));
    await runRealtimeStage(invocation, realtime, maybeApplied);
    for (const unit of stage.filter((u) => u.group.mode === 'bulk')) {
      if (invocation.held) return;
      await bulk.submit(unit);
    }
  }
}

/**
 * Step 2. Records whose outcome is stored are published as stored. If an earlier invocation may still
 * be writing records of a partition, this one waits for it inside the invocation's waiting window;
 * either way what it loaded of that partition is stale, so the partition is handed back whole (and
 * never written by this invocation). Returns the records left to prepare.
 */
async function takeStored(
  invocation: Invocation,
  pending: Pending[],
  decided: Outcome[],
): Promise<Pending[]> {
  const { deps, redelivery, ledger } = invocation;
  const live = new Set(
    pending
      .filter((p) => mayStillBeWriting(p.entry, Date.now(), deps.hasEnded))
      .map((p) => partitionId(p.record)),
  );
  if (live.size > 0) {
    invocation.log.info('an earlier invocation may still be writing these partitions: waiting for it', {
      partitions: [...live],
    });
    await invocation.time.waitWhile(() =>
      pending.some((p) => mayStillBeWriting(p.entry, Date.now(), deps.hasEnded)),
    );
    for (const partition of live) ledger.release(partition);
  }
  const open: Pending[] = [];
  for (const item of pending) {
    const { entry, record } = item;
    if (live.has(partitionId(record))) redelivery.handBack(record);
    else if (entry?.state === 'applied' && 'outcome' in entry)
      decided.push(outcomeFrom(record, entry.outcome));
    else open.push(item);
  }
  return open;
}

/** An sObject's describe, or why there is none: `final` when no wait can fix it (the org lacks it). */
type Described = { schema: SObjectSchema } | { failure: OutcomeError; final: boolean };

/**
 * The sObjects of these records, described. An org-wide refusal is thrown (it holds the stream); an
 * sObject the org does not have is a configuration error of its mappings.
 */
async function describeAll(
  invocation: Invocation,
  open: readonly Pending[],
): Promise<Map<string, Described>> {
  const { deps } = invocation;
  const sobjects = new Set<string>();
  for (const { record } of open) {
    const mapping = deps.mappings.get(record.topic);
    if (mapping) sobjects.add(mapping.sobject);
  }
  const described = new Map<string, Described>();
  await Promise.all(
    [...sobjects].map(async (sobject) => {
      try {
        described.set(sobject, {
          schema: await deps.salesforce.schemaOf(sobject, { deadline: deps.deadline - RESERVE_MS }),
        });
      } catch (error) {
        if (isOrgWide(error)) throw error;
        const missing =
          error instanceof SalesforceApiError && (error.status === 404 || error.errorCode === 'NOT_FOUND');
        described.set(sobject, { failure: errorOf(error, 'DESCRIBE_FAILED'), final: missing });
      }
    }),
  );
  return described;
}

const schemaIn = (described: Described | undefined): SObjectSchema | undefined =>
  described && 'schema' in described ? described.schema : undefined;

/**
 * Step 3: decode → resolve → shape every open record. Schema drift: records rejected for a field the
 * cached describe lacks get one fresh describe of their sObject (at most once a minute per sObject)
 * and are shaped again, so a field added to the org and to the stream at once is written.
 */
async function prepareAll(
  invocation: Invocation,
  open: readonly Pending[],
  schemas: Map<string, Described>,
): Promise<Map<Pending, Prepared>> {
  const { deps } = invocation;
  const prepared = new Map(open.map((item) => [item, prepare(invocation, item.record, schemas)]));
  const rejections = [...prepared.values()].flatMap((p) => (p.kind === 'rejected' ? [p.rejection] : []));
  let changed = false;
  for (const sobject of sobjectsWithUnknownFields(rejections, deps.mappings)) {
    try {
      const context = { deadline: deps.deadline - RESERVE_MS };
      const schema = await deps.salesforce.schemaOf(sobject, context, { refresh: true });
      changed ||= schema !== schemaIn(schemas.get(sobject));
      schemas.set(sobject, { schema });
    } catch (error) {
      if (isOrgWide(error)) throw error;
      // Otherwise the describe in hand stands, and with it the rejections.
    }
  }
  if (!changed) return prepared;
  for (const [item, p] of prepared) {
    if (p.kind === 'rejected' && p.rejection.code === 'UNKNOWN_FIELD')
      prepared.set(item, prepare(invocation, item.record, schemas));
  }
  return prepared;
}

/** Step 3, per record: decode → resolve → shape. Never throws. */
function prepare(
  invocation: Invocation,
  record: KafkaRecord,
  described: ReadonlyMap<string, Described>,
): Prepared {
  const decoded = decodeValue(record);
  if (isRejection(decoded)) return { kind: 'rejected', rejection: decoded };
  const resolved = resolveRecord(decoded, invocation.deps.mappings);
  if (isRejection(resolved)) return { kind: 'rejected', rejection: resolved };
  const describe = described.get(resolved.mapping.sobject);
  if (!describe || 'failure' in describe) {
    if (describe?.final) return { kind: 'invalid', resolved, problem: unknownSObject(resolved.mapping) };
    const failure = describe?.failure ?? { code: 'DESCRIBE_FAILED', message: 'no describe', fields: [] };
    return { kind: 'undescribed', resolved, failure };
  }
  const problem = mappingProblem(resolved.mapping, describe.schema);
  if (problem) return { kind: 'invalid', resolved, problem };
  const shaped = shapeResolved(resolved, describe.schema);
  return isRejection(shaped)
    ? { kind: 'rejected', rejection: shaped, resolved }
    : { kind: 'shaped', record: shaped };
}

function isInsert(prepared: Prepared): boolean {
  const resolved =
    prepared.kind === 'shaped'
      ? prepared.record
      : prepared.kind === 'rejected'
        ? prepared.resolved
        : undefined;
  return resolved?.operation === 'insert';
}

function rejectedOf(prepared: Extract<Prepared, { kind: 'rejected' }>, invocation: Invocation) {
  const mapping = invocation.deps.mappings.get(prepared.rejection.record.topic);
  return storedRejection(prepared.rejection, mapping, invocation.now());
}

function failedUnknown(prepared: Extract<Prepared, { kind: 'rejected' }>, invocation: Invocation) {
  const error = unknownAfterChange(prepared.rejection);
  if (prepared.resolved) return storedFailure(prepared.resolved, error, 1, invocation.now());
  return { ...rejectedOf(prepared, invocation), status: 'failed' as const, errors: [error], attempts: 1 };
}

/** Stores a decided outcome for a record and returns its published form. */
function decide(
  invocation: Invocation,
  record: OutcomeSubject,
  stored: ReturnType<typeof storedOf>,
): Outcome {
  const entry = invocation.ledger.markApplied(record, stored);
  return outcomeFrom(record, (entry as { outcome: typeof stored }).outcome);
}

/** Where step 3 puts each prepared record. */
interface Sorted {
  /** To plan and write. */
  plannable: ShapedRecord[];
  /** Planned records an earlier attempt may have written (a delete finding them gone succeeded). */
  maybeApplied: Set<ShapedRecord>;
  /** Sent inserts whose answer was lost: looked up before anything else. */
  uncertainInserts: { pending: Pending; prepared: Prepared }[];
  /** Records of bulk units an earlier invocation started, by unit. */
  resumable: Map<string, { pending: Pending; prepared: Prepared }[]>;
}

/**
 * Step 3. Sorts each prepared record by the state it arrived in: what it arrived as wins
 * over what the configuration says now. Decided outcomes (rejections, outcomes of earlier versions,
 * spent budgets) go to `decided`, stored.
 */
function sort(
  invocation: Invocation,
  open: readonly Pending[],
  preparedOf: ReadonlyMap<Pending, Prepared>,
  decided: Outcome[],
): Sorted {
  const sorted: Sorted = {
    plannable: [],
    maybeApplied: new Set(),
    uncertainInserts: [],
    resumable: new Map(),
  };
  for (const item of open) {
    const prepared = preparedOf.get(item)!;
    const { entry } = item;
    if (entry?.state === 'applied' && 'legacy' in entry) {
      const resolved = prepared.kind === 'shaped' ? prepared.record : prepared.resolved;
      decided.push(outcomeFrom(item.record, storedFromLegacy(entry.legacy, resolved, invocation.now())));
    } else if (entry?.state === 'submitting') {
      const list = sorted.resumable.get(entry.unitKey) ?? [];
      list.push({ pending: item, prepared });
      sorted.resumable.set(entry.unitKey, list);
    } else if (entry?.state === 'sent' && prepared.kind === 'undescribed') {
      // A write that may have happened keeps its marker: only a later delivery can settle it.
      invocation.redelivery.handBack(item.record);
    } else if (entry?.state === 'sent' && isInsert(prepared)) {
      sorted.uncertainInserts.push({ pending: item, prepared });
    } else if (prepared.kind === 'shaped') {
      if (entry?.state === 'sent') sorted.maybeApplied.add(prepared.record);
      sorted.plannable.push(prepared.record);
    } else if (prepared.kind === 'invalid') {
      // No wait can fix the mapping: fail at once, without spending deliveries on it — or, for a write
      // sent before that may have taken effect, say that its fate is unknown.
      const { problem, resolved } = prepared;
      const error =
        entry?.state === 'sent'
          ? unknownAfterChange(problem)
          : { code: problem.code, message: problem.message, fields: problem.fields };
      decided.push(decide(invocation, item.record, storedFailure(resolved, error, 0, invocation.now())));
      invocation.summary.invalidMappings[problem.code] =
        (invocation.summary.invalidMappings[problem.code] ?? 0) + 1;
    } else if (prepared.kind === 'undescribed') {
      const target = targetOf(prepared.resolved);
      const final = invocation.redelivery.retryLater(prepared.resolved, prepared.failure, target);
      if (final) decided.push(final);
    } else if (entry?.state === 'sent') {
      // Sent before, maybe applied, and the configuration now rejects it: it must not be reported as
      // never written, nor sent again.
      decided.push(decide(invocation, item.record, failedUnknown(prepared, invocation)));
    } else decided.push(decide(invocation, item.record, rejectedOf(prepared, invocation)));
  }
  return sorted;
}

/**
 * Step 4. Inserts sent before whose answer was lost: looked up by an external-id or unique field they
 * carry. Found → succeeded then. Not found → returned, to be sent again (or rejected, if the
 * configuration now rejects them). No such field → OUTCOME_UNKNOWN. A failing lookup hands the record
 * back (counted); past its budget the outcome is unknown.
 */
async function settleUncertainInserts(
  invocation: Invocation,
  items: readonly { pending: Pending; prepared: Prepared }[],
  schemas: ReadonlyMap<string, Described>,
  decided: Outcome[],
): Promise<ShapedRecord[]> {
  const { redelivery, now, config } = invocation;
  const resend: ShapedRecord[] = [];
  type Lookup = { prepared: Prepared; resolved: ResolvedRecord; value: string };
  const byField = new Map<string, { sobject: string; field: string; lookups: Lookup[] }>();
  for (const { pending, prepared } of items) {
    const resolved =
      prepared.kind === 'undescribed'
        ? prepared.resolved
        : prepared.kind === 'shaped'
          ? prepared.record
          : prepared.resolved;
    const schema = resolved ? schemaIn(schemas.get(resolved.mapping.sobject)) : undefined;
    const fields = prepared.kind === 'shaped' ? prepared.record.fields : resolved?.value;
    const lookup = fields && schema ? lookupOf(fields, schema) : undefined;
    if (!resolved || !lookup) {
      const stored = resolved
        ? storedFailure(resolved, unknownInsert(), 1, now())
        : failedUnknown(prepared as Extract<Prepared, { kind: 'rejected' }>, invocation);
      decided.push(decide(invocation, pending.record, stored));
      continue;
    }
    const key = `${resolved.mapping.sobject}\u0000${lookup.field}`;
    const group = byField.get(key) ?? { sobject: resolved.mapping.sobject, field: lookup.field, lookups: [] };
    group.lookups.push({ prepared, resolved, value: lookup.value });
    byField.set(key, group);
  }
  for (const { sobject, field, lookups } of byField.values()) {
    const found = await existing(
      invocation,
      sobject,
      field,
      lookups.map((l) => l.value),
    );
    // One record found settles the first insert (in delivery order) that carried its value; a second
    // insert with that value, or a value several records have, may or may not have been written.
    const claimed = new Set<string>();
    for (const { prepared, resolved, value } of lookups) {
      const presence = found instanceof Map ? found.get(value) : undefined;
      if (!(found instanceof Map)) {
        if (invocation.ledger.handBackSent(resolved, found, config.maxRedeliveries) === 'handed-back')
          redelivery.handBack(resolved);
        else decided.push(decide(invocation, resolved, storedFailure(resolved, unknownInsert(), 1, now())));
      } else if (presence === 'many' || (presence !== 'absent' && claimed.has(value))) {
        decided.push(decide(invocation, resolved, storedFailure(resolved, unknownInsert(), 1, now())));
      } else if (presence !== undefined && presence !== 'absent') {
        claimed.add(value);
        const result = {
          status: 'succeeded' as const,
          salesforceId: presence.id,
          created: true,
          errors: [],
          attempts: 1,
        };
        decided.push(decide(invocation, resolved, storedOf(resolved, result, now())));
      } else if (prepared.kind === 'shaped') resend.push(prepared.record);
      else
        decided.push(
          decide(
            invocation,
            resolved,
            rejectedOf(prepared as Extract<Prepared, { kind: 'rejected' }>, invocation),
          ),
        );
    }
  }
  return resend;
}

/** Stored and newly decided outcomes: stored (if new) before they are published. */
async function publishDecided(invocation: Invocation, decided: Outcome[]): Promise<void> {
  if (decided.length === 0) return;
  await invocation.ledger.save();
  await invocation.outcomes.publish(decided);
}

/** Step 5: the bulk units an earlier invocation started, with their records as delivered now. */
function resumableOf(
  resumable: ReadonlyMap<string, readonly { pending: Pending; prepared: Prepared }[]>,
): Map<string, Resumable> {
  const out = new Map<string, Resumable>();
  for (const [unitKey, items] of resumable) {
    const shaped = items.flatMap((i) => (i.prepared.kind === 'shaped' ? [i.prepared.record] : []));
    out.set(unitKey, {
      records: items.map((i) => i.pending.record),
      shaped: shaped.length === items.length ? shaped : undefined,
    });
  }
  return out;
}

/**
 * Step 7. Nothing unfinished may be acknowledged: anything neither finished nor handed back (a path
 * that should not exist) is handed back here, loudly. Then the watermarks move and everything is saved.
 */
async function finish(
  invocation: Invocation,
  records: readonly KafkaRecord[],
  pending: readonly Pending[],
): Promise<BatchResult> {
  const { ledger, redelivery, summary, log } = invocation;
  for (const { record } of pending) {
    if (!ledger.isFinished(record) && !redelivery.isWithheld(record)) {
      log.error('unfinished record handed back', {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
      });
      redelivery.handBack(record);
    }
  }
  const delivered = new Map<string, number[]>();
  for (const r of records) {
    const list = delivered.get(partitionId(r)) ?? [];
    list.push(r.offset);
    delivered.set(partitionId(r), list);
  }
  for (const [partition, offsets] of delivered) {
    const checkpoint = ledger.checkpointOf(partition);
    advance(checkpoint, offsets);
    summary.checkpointLag = Math.max(summary.checkpointLag, Math.max(...offsets) - checkpoint.watermark);
  }
  await ledger.save(records);
  const batchItemFailures = [...redelivery.handedBack].map(([partition, offset]) => ({
    itemIdentifier: { partition, offset },
  }));
  summary.handedBack = pending.filter(
    (p) => redelivery.isWithheld(p.record) && !ledger.isFinished(p.record),
  ).length;
  log.info('batch processed', { ...summary, handedBackPartitions: batchItemFailures.length });
  return { batchItemFailures, summary };
}
