// 6. Fault soak: N records across realtime and bulk mappings — Lead changes (created → updated →
// sometimes deleted) upserted by external id, order events inserted through Collections, order events
// inserted through Bulk API 2.0 — while the emulator injects 429, 503, connection resets (before and
// after the request took effect), token expiry and row locks, and the handler is killed at random
// steps and redelivered as the event source mapping would. Then it counts what was lost, what was
// written twice and which records lack exactly one outcome — all must be 0 — and what the faults
// cost in API calls against the same run without faults.
//
// Then it runs the delivery ledger's random histories (test/support/ledger-model.ts), 5,000 by default,
// and the bulk job lifecycle's (test/support/bulk-model.ts), 2,000 by default.
//
//   npm run soak -- [--records 20000] [--rate 0.1] [--crash-rate 0.05] [--lock-rate 0.01] [--batch 500]
//                   [--seed 1] [--bulk-locks] [--json] [--ledger-histories 5000] [--bulk-histories 2000]
import type { SinkConfigInput } from '../../lib/config/index.ts';
import type { JsonObject } from '../../lib/records.ts';
import type { Step } from '../../lib/sink/process-batch.ts';
import type { FaultRuleInput, RouteName } from '../../local/emulator/faults.ts';
import { type EventRecordInput, mskEvent } from '../../local/events/build-event.ts';
import { leadStream, orderEvents, seededRandom, sequentialLeadState } from '../../local/events/generate.ts';
import { runBulkHistories } from '../support/bulk-model.ts';
import { runLedgerHistories } from '../support/ledger-model.ts';
import { auditOutcomes, type CallCounts, callCounts, type OutcomeAudit, withSink } from './harness.ts';
import {
  formatReport,
  numberFlag,
  parseFlags,
  progress,
  round,
  type SectionResult,
  target,
} from './support.ts';

export const SOAK_TOPICS = {
  leads: 'sfdc-pushtopic-lead',
  ordersRealtime: 'orders-rt',
  ordersBulk: 'order-events',
} as const;

export const soakConfig: SinkConfigInput = {
  bulk: { pollInterval: '1s', maxPollInterval: '5s' },
  mappings: [
    { topic: SOAK_TOPICS.leads, sobject: 'Lead', externalIdField: 'CustomId__c', unknownFields: 'ignore' },
    // Plain inserts: the non-idempotent case (a lost answer is settled by looking up Event_Key__c).
    { topic: SOAK_TOPICS.ordersRealtime, sobject: 'Order_Event__c', operation: 'insert' },
    { topic: SOAK_TOPICS.ordersBulk, sobject: 'Order_Event__c', operation: 'insert', mode: 'bulk' },
  ],
};

/** Fields of a Lead compared with what a sequential replay leaves. */
const COMPARED = ['LastName', 'FirstName', 'Company', 'Email', 'Status', 'Title', 'NumberOfEmployees'];

export interface SoakOptions {
  /** Records in all (default 20,000): a third per mapping. */
  records?: number;
  /** Share of API calls that get a fault (default 0.1), split evenly over 429, 503, reset before, reset after, token expiry. */
  rate?: number;
  /** Share of records in Collections writes refused with UNABLE_TO_LOCK_ROW (default rate / 10). */
  lockRate?: number;
  /** Chance that the handler is killed after any one step (default 0.05). */
  crashRate?: number;
  /** Also lock rows in bulk jobs (Bulk API result rows with UNABLE_TO_LOCK_ROW). */
  bulkLocks?: boolean;
  /** Records per event (one event source mapping batch). */
  batch?: number;
  seed?: number;
}

export interface SoakReport {
  records: number;
  faulted: boolean;
  /** Records whose write is not in the org as a sequential replay leaves it, or with no outcome. */
  lost: number;
  /** Rows written more than once: Leads by CustomId__c, order events by Event_Key__c. */
  duplicated: number;
  /**
   * Records without exactly one outcome: none, or re-publications that disagree (anything but
   * `timestamp` and `attempts`); plus outcomes about records never delivered.
   */
  withoutExactlyOneOutcome: number;
  org: {
    leadsMissing: number;
    leadsStale: number;
    leadsNotDeleted: number;
    leadDuplicates: number;
    ordersMissing: number;
    orderDuplicates: number;
  };
  outcomes: OutcomeAudit;
  delivery: {
    events: number;
    invocations: number;
    crashes: number;
    uncommitted: number;
    crashesByStep: Record<string, number>;
  };
  calls: CallCounts;
  /** Faults the emulator injected, by kind. */
  faultsFired: Record<string, number>;
  /** Bulk jobs that never got data (a create whose answer was lost): Salesforce deletes them after 7 days. */
  orphanJobs: number;
  bulkJobs: number;
  wallMs: number;
}

/** The soak's records: three streams merged at random (each keeps its own order) into one arrival order. */
export function soakWorkload(total: number, seed = 1): EventRecordInput[] {
  const third = Math.floor(total / 3);
  // leadStream with updates 1 and deleteEvery 3 gives 7/3 changes per lead.
  const leads = leadStream({
    leads: Math.max(1, Math.round((third * 3) / 7)),
    partitions: 3,
    updates: 1,
    deleteEvery: 3,
    seed,
  });
  const realtime = orderEvents({
    count: third,
    partitions: 2,
    topic: SOAK_TOPICS.ordersRealtime,
    keyPrefix: 'R-',
  });
  const bulk = orderEvents({
    count: Math.max(0, total - leads.length - third),
    partitions: 2,
    topic: SOAK_TOPICS.ordersBulk,
    keyPrefix: 'E-',
  });
  const random = seededRandom(seed + 101);
  const streams = [leads, realtime, bulk].map((list) => ({ list, next: 0 }));
  const out: EventRecordInput[] = [];
  for (;;) {
    const open = streams.filter((s) => s.next < s.list.length);
    if (open.length === 0) return out;
    const remaining = open.reduce((n, s) => n + s.list.length - s.next, 0);
    let pick = random() * remaining;
    for (const s of open) {
      pick -= s.list.length - s.next;
      if (pick < 0 || s === open.at(-1)) {
        out.push(s.list[s.next++]!);
        break;
      }
    }
  }
}

const FAULT_ROUTES: RouteName[] = ['collections', 'bulk', 'query', 'describe', 'sobject'];

export function soakFaults(options: {
  rate: number;
  lockRate: number;
  bulkLocks: boolean;
}): FaultRuleInput[] {
  const each = options.rate / 5;
  const rules: FaultRuleInput[] = [];
  if (each > 0) {
    rules.push(
      { id: '429', route: FAULT_ROUTES, fault: 'status', status: 429, retryAfter: 1, probability: each },
      { id: '503', route: FAULT_ROUTES, fault: 'status', status: 503, probability: each },
      { id: 'reset-before', route: FAULT_ROUTES, fault: 'reset', when: 'before', probability: each },
      { id: 'reset-after', route: FAULT_ROUTES, fault: 'reset', when: 'after', probability: each },
      { id: 'expire-tokens', route: FAULT_ROUTES, fault: 'expireTokens', probability: each },
    );
  }
  if (options.lockRate > 0) {
    rules.push({
      id: 'lock-row',
      route: options.bulkLocks ? ['collections', 'bulk'] : 'collections',
      fault: 'lockRow',
      match: {},
      probability: options.lockRate,
    });
  }
  return rules;
}

export async function runSoak(options: SoakOptions & { faults: boolean }): Promise<SoakReport> {
  const started = performance.now();
  const total = options.records ?? 20_000;
  const rate = options.rate ?? 0.1;
  const lockRate = options.lockRate ?? rate / 10;
  const crashRate = options.faults ? (options.crashRate ?? 0.05) : 0;
  const batch = options.batch ?? 500;
  const seed = options.seed ?? 1;
  const records = soakWorkload(total, seed);
  const faults = options.faults ? soakFaults({ rate, lockRate, bulkLocks: options.bulkLocks ?? false }) : [];

  return withSink(soakConfig, { faults, faultSeed: seed, dailyApiMax: 10_000_000 }, async (sink) => {
    const emulator = sink.emulator!;
    const random = seededRandom(seed + 7);
    const crashesByStep: Record<string, number> = {};
    const after = (step: Step) => {
      if (crashRate > 0 && random() < crashRate) {
        crashesByStep[step] = (crashesByStep[step] ?? 0) + 1;
        throw new Error(`injected crash after ${step}`);
      }
    };
    const delivery = { events: 0, invocations: 0, crashes: 0, uncommitted: 0, crashesByStep };
    for (let i = 0; i < records.length; i += batch) {
      const report = await sink.deliver(mskEvent(records.slice(i, i + batch)), {
        after,
        maxInvocations: 5_000,
      });
      delivery.events++;
      delivery.invocations += report.invocations;
      delivery.crashes += report.crashes;
      delivery.uncommitted += report.uncommitted;
      if ((i / batch) % 5 === 4 || i + batch >= records.length)
        progress(
          `soak${options.faults ? '' : ' (no faults)'}: ${Math.min(i + batch, records.length)}/${records.length} records delivered, ${delivery.invocations} invocations, ${delivery.crashes} crashes`,
        );
    }
    await sink.settle();

    // The org against what the stream must leave there.
    const leadInputs = records.filter((r) => r.topic === SOAK_TOPICS.leads);
    const expectedLeads = sequentialLeadState(leadInputs);
    const leadsByKey = new Map<string, JsonObject[]>();
    for (const r of emulator.org.list('Lead')) {
      const key = String(r.fields.CustomId__c);
      leadsByKey.set(key, [...(leadsByKey.get(key) ?? []), r.fields as JsonObject]);
    }
    let leadsMissing = 0;
    let leadsStale = 0;
    let leadDuplicates = 0;
    for (const [key, fields] of expectedLeads) {
      const rows = leadsByKey.get(key);
      if (!rows) {
        leadsMissing++;
        continue;
      }
      if (COMPARED.some((f) => rows[0]![f] !== fields[f])) leadsStale++;
    }
    let leadsNotDeleted = 0;
    for (const [key, rows] of leadsByKey) {
      leadDuplicates += rows.length - 1;
      if (!expectedLeads.has(key)) leadsNotDeleted++;
    }
    const expectedOrders = new Set(
      records
        .filter((r) => r.topic !== SOAK_TOPICS.leads)
        .map((r) => (r.value as { Event_Key__c: string }).Event_Key__c),
    );
    const ordersByKey = new Map<string, number>();
    for (const r of emulator.org.list('Order_Event__c')) {
      const key = String(r.fields.Event_Key__c);
      ordersByKey.set(key, (ordersByKey.get(key) ?? 0) + 1);
    }
    let ordersMissing = 0;
    for (const key of expectedOrders) if (!ordersByKey.has(key)) ordersMissing++;
    let orderDuplicates = 0;
    for (const n of ordersByKey.values()) orderDuplicates += n - 1;

    const outcomes = auditOutcomes(records, sink.outcomes.outcomes);
    const faultsFired: Record<string, number> = {};
    for (const state of emulator.faults.list()) faultsFired[state.rule.id] = state.fired;
    const jobs = emulator.bulk.jobs() as Array<{ state: string; numberRecordsProcessed?: number }>;
    const orphanJobs = jobs.filter(
      (j) => j.state === 'Open' || (j.state === 'Aborted' && !j.numberRecordsProcessed),
    ).length;

    return {
      records: records.length,
      faulted: options.faults,
      lost:
        leadsMissing +
        leadsStale +
        leadsNotDeleted +
        ordersMissing +
        outcomes.withoutOutcome +
        delivery.uncommitted,
      duplicated: leadDuplicates + orderDuplicates,
      withoutExactlyOneOutcome: outcomes.withoutOutcome + outcomes.conflicting + outcomes.phantom,
      org: { leadsMissing, leadsStale, leadsNotDeleted, leadDuplicates, ordersMissing, orderDuplicates },
      outcomes,
      delivery,
      calls: callCounts(sink),
      faultsFired,
      orphanJobs,
      bulkJobs: jobs.length,
      wallMs: performance.now() - started,
    };
  });
}

/** The soak as a bench section: the same records without faults, then with them. */
export async function benchSoak(options: SoakOptions = {}): Promise<SectionResult> {
  const started = performance.now();
  const clean = await runSoak({ ...options, faults: false });
  const faulted = await runSoak({ ...options, faults: true });
  const rate = options.rate ?? 0.1;
  const extra = faulted.calls.apiCalls - clean.calls.apiCalls;
  const failed = faulted.outcomes.byStatus.failed ?? 0;
  for (const report of [clean, faulted]) report.outcomes.conflictExamples.splice(1);
  return {
    section: 'soak',
    title: `Fault soak: ${faulted.records.toLocaleString('en-US')} records, ${Math.round(rate * 100)} % of calls faulted, handler killed after ${faulted.delivery.crashes} steps`,
    figures: [
      {
        name: 'records lost',
        value: faulted.lost,
        unit: '',
        note: `org: ${JSON.stringify(faulted.org)}; without outcome ${faulted.outcomes.withoutOutcome}; uncommitted ${faulted.delivery.uncommitted}`,
      },
      {
        name: 'records duplicated (Lead CustomId__c, Order Event_Key__c)',
        value: faulted.duplicated,
        unit: '',
      },
      {
        name: 'records without exactly one outcome',
        value: faulted.withoutExactlyOneOutcome,
        unit: '',
        note: `none ${faulted.outcomes.withoutOutcome}, disagreeing re-publications ${faulted.outcomes.conflicting} (fields ${JSON.stringify(faulted.outcomes.conflictFields)}, by operation ${JSON.stringify(faulted.outcomes.conflictOperations)}), phantom ${faulted.outcomes.phantom}`,
      },
      {
        name: 'raw duplicate outcomes (re-publications after a crash)',
        value: faulted.outcomes.rawDuplicates,
        unit: '',
        note: `records re-published with only 'attempts' differing: ${faulted.outcomes.attemptsDiffer}`,
      },
      {
        name: 'records failed (outcome `failed`)',
        value: failed,
        unit: '',
        note: JSON.stringify(faulted.outcomes.errorCodes),
      },
      {
        name: 'crashes injected',
        value: faulted.delivery.crashes,
        unit: '',
        note: `after ${JSON.stringify(faulted.delivery.crashesByStep)}; faults fired ${JSON.stringify(faulted.faultsFired)}; orphan bulk jobs ${faulted.orphanJobs}`,
      },
      {
        name: 'API calls with faults and crashes',
        value: faulted.calls.apiCalls,
        unit: 'calls',
        baseline: { name: 'same run, no faults', value: clean.calls.apiCalls },
        ratio: round(faulted.calls.apiCalls / clean.calls.apiCalls, 2),
        note: `${extra} extra calls`,
      },
      {
        name: 'invocations',
        value: faulted.delivery.invocations,
        unit: '',
        baseline: { name: 'same run, no faults', value: clean.delivery.invocations },
        ratio: round(faulted.delivery.invocations / clean.delivery.invocations, 2),
      },
      {
        name: 'soak wall time',
        value: round(faulted.wallMs / 1000, 1),
        unit: 's',
        baseline: { name: 'same run, no faults', value: round(clean.wallMs / 1000, 1) },
        ratio: round(faulted.wallMs / clean.wallMs, 2),
      },
    ],
    targets: [
      target.equal('soak: records lost', faulted.lost, 0),
      target.equal('soak: records duplicated', faulted.duplicated, 0),
      target.equal('soak: records without exactly one outcome', faulted.withoutExactlyOneOutcome, 0),
      target.equal(
        'soak without faults: lost + duplicated + without one outcome',
        clean.lost + clean.duplicated + clean.withoutExactlyOneOutcome,
        0,
      ),
    ],
    details: { options, clean, faulted },
    wallMs: performance.now() - started,
  };
}

if (import.meta.main) {
  const flags = parseFlags(process.argv.slice(2));
  const options: SoakOptions = {
    records: numberFlag(flags, 'records', 20_000),
    rate: numberFlag(flags, 'rate', 0.1),
    crashRate: numberFlag(flags, 'crash-rate', 0.05),
    batch: numberFlag(flags, 'batch', 500),
    seed: numberFlag(flags, 'seed', 1),
    bulkLocks: flags.has('bulk-locks'),
  };
  if (flags.has('lock-rate')) options.lockRate = numberFlag(flags, 'lock-rate', 0.01);
  const result = await benchSoak(options);
  if (flags.has('json')) console.log(JSON.stringify(result, null, 2));
  else console.log(formatReport([result]));
  const histories = numberFlag(flags, 'ledger-histories', 5_000);
  let ledgerOk = true;
  if (histories > 0) {
    const started = performance.now();
    try {
      const ran = await runLedgerHistories({
        runs: histories,
        seed: numberFlag(flags, 'seed', 1),
        onProgress: (done) => {
          if (done % 250 === 0) progress(`ledger histories: ${done} of ${histories}`);
        },
      });
      console.log(
        `Delivery ledger: ${ran.toLocaleString('en-US')} random histories, every invariant held (${round((performance.now() - started) / 1000, 1)} s)`,
      );
    } catch (error) {
      ledgerOk = false;
      console.log(`Delivery ledger: an invariant broke\n${(error as Error).message}`);
    }
  }
  const bulkHistories = numberFlag(flags, 'bulk-histories', 2_000);
  let bulkOk = true;
  if (bulkHistories > 0) {
    const started = performance.now();
    try {
      const ran = await runBulkHistories({
        runs: bulkHistories,
        seed: numberFlag(flags, 'seed', 1),
        onProgress: (done) => {
          if (done % 100 === 0) progress(`bulk histories: ${done} of ${bulkHistories}`);
        },
      });
      console.log(
        `Bulk job lifecycle: ${ran.toLocaleString('en-US')} random histories, every invariant held (${round((performance.now() - started) / 1000, 1)} s)`,
      );
    } catch (error) {
      bulkOk = false;
      console.log(`Bulk job lifecycle: an invariant broke\n${(error as Error).message}`);
    }
  }
  process.exit(result.targets.every((t) => t.ok) && ledgerOk && bulkOk ? 0 : 1);
}
