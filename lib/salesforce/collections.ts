// One realtime write unit (≤ 200 records) through sObject Collections, mapped entry by entry to one
// result per record, in unit order.
//
// Beyond the single call:
// - Update/delete addressed by an external id resolve the Ids first (one query per unit, addressing as
//   in external-ids.ts): NOT_FOUND, DUPLICATE_EXTERNAL_ID, or the lookup's own failure.
// - Records refused with UNABLE_TO_LOCK_ROW are sent again on their own (a follow-up call with just
//   those records), with backoff, up to `maxRetries` times.
// - Records refused with INVALID_FIELD_FOR_INSERT_UPDATE are sent once more without the named fields
//   (never the addressing field). The fields are left out of that one write only: a field an updating
//   upsert may not set, a creating one may. The record's outcome keeps Salesforce's error, naming the
//   fields left out, beside its success. Resending an insert this way cannot duplicate it: with
//   allOrNone false, a record that failed was not written.
// - A whole request Salesforce refuses for its content (400 JSON_PARSER_ERROR or INVALID_FIELD: a value
//   or field it cannot deserialize) is split in halves, each sent again, recursively, until the
//   record(s) at fault are alone: only they fail, with Salesforce's error; the others are written. An
//   INVALID_FIELD naming a field ("No such column") needs no search: the records carrying that field
//   fail, the rest go again in one call, and the field is dropped from the cached describe.
//   allOrNone units are not split (a half would be written without the rest): the call fails whole.
// - allOrNone units: Salesforce rolls the whole call back when any record fails, so a retry (for a
//   lock or dropped fields) resends the whole unit; a final failure maps every record faithfully (the
//   culprits with their errors, the others with ALL_OR_NONE_OPERATION_ROLLED_BACK).
// - A call that fails as a whole (throttling or 5xx past the retries, a lost response, the deadline)
//   fails every record it carried with that code, `retryable` as the error says. Org-wide failures
//   (daily API limit, login refused) are thrown when nothing has been written yet, and make the
//   records of a later call of the unit retryable (that call processed nothing).
import type { OutcomeError } from '../outcomes/outcome.ts';
import { COLLECTIONS_LIMIT, type WriteUnit } from '../plan/plan.ts';
import type { JsonObject } from '../records.ts';
import type { Api, ApiResponse } from './api.ts';
import {
  type OrgCondition,
  orgConditionOf,
  ResponseLostError,
  SalesforceApiError,
  SalesforceClientError,
  UnexpectedResponseError,
} from './errors.ts';
import { addressByExternalId, type Resolution } from './external-ids.ts';
import type { SalesforceLogger } from './redact.ts';
import { type BackoffOptions, backoffDelay, RETRYABLE_RECORD_CODES } from './retry.ts';
import type { CallContext, RecordResult } from './types.ts';

const LOCKED = 'UNABLE_TO_LOCK_ROW';
const NOT_WRITABLE = 'INVALID_FIELD_FOR_INSERT_UPDATE';
const ROLLED_BACK = 'ALL_OR_NONE_OPERATION_ROLLED_BACK';

/** Whole-request refusals that say the body's content cannot be read: split to find the record. */
const CONTENT_REFUSALS = new Set(['JSON_PARSER_ERROR', 'INVALID_FIELD']);

export interface UnitWriterOptions {
  api: Api;
  maxRetries: number;
  backoff: BackoffOptions;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  logger: SalesforceLogger;
  /** Masks secrets in Salesforce's per-record messages before they become outcomes. */
  redact: (text: string) => string;
  /** Salesforce said the org has no such field (describe drift): forget it in the cached describe. */
  forgetField?: (sobject: string, field: string) => void;
  resolve: (
    sobject: string,
    field: string,
    values: readonly string[],
    context: CallContext,
  ) => Promise<Resolution>;
}

interface SaveEntry {
  id?: string | null;
  success?: boolean;
  created?: boolean;
  errors?: Array<{ statusCode?: string; errorCode?: string; message?: string; fields?: string[] }>;
}

interface Pending {
  index: number;
  /** Body fields (no `attributes`); for delete, unused. */
  fields: JsonObject;
  /** The addressed Id (update by external id, delete). */
  id?: string;
  attempts: number;
  fieldRetryDone: boolean;
  /** Lower-cased fields left out of this record's write (Salesforce refused them). */
  dropped: Set<string>;
  /** Salesforce's refusals of those fields, reported with the record's success. */
  leftOut: OutcomeError[];
  /** An earlier call carrying this record may have been applied (its response was lost). */
  maybeApplied: boolean;
  /** The org-wide condition that refused the call that carried it last, if any. */
  orgWide?: OrgCondition;
  lastErrors: OutcomeError[];
}

function outcomeErrors(entry: SaveEntry, redact: (text: string) => string): OutcomeError[] {
  return (entry.errors ?? []).map((e) => ({
    code: e.statusCode ?? e.errorCode ?? 'UNKNOWN_ERROR',
    message: redact(e.message ?? ''),
    fields: Array.isArray(e.fields) ? e.fields : [],
  }));
}

/** The field names an INVALID_FIELD_FOR_INSERT_UPDATE error names (its `fields`, else its message). */
function refusedFields(error: OutcomeError): string[] {
  if (error.fields.length > 0) return error.fields;
  const match = /Unable to create\/update fields: ([^.]+)\./i.exec(error.message);
  return match
    ? match[1]!
        .split(',')
        .map((f) => f.trim())
        .filter(Boolean)
    : [];
}

/** Whether a body key carries a refused field: the field itself, or a relationship set by external id. */
function carries(key: string, value: unknown, refused: string): boolean {
  const lower = key.toLowerCase();
  if (lower === refused) return true;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return `${lower}id` === refused || lower.replace(/__r$/, '__c') === refused;
}

/**
 * Creates `writeUnit`: one realtime unit through sObject Collections, one result per record in unit
 * order.
 *
 * @example
 * const writeUnit = createUnitWriter({ api, maxRetries: 5, backoff, sleep, now: Date.now, logger,
 *   redact: redactor.redact, resolve });
 * const results = await writeUnit(plan.stages[0][0], { deadline: Date.now() + 60_000 });
 */
export function createUnitWriter(
  options: UnitWriterOptions,
): (unit: WriteUnit, context: CallContext) => Promise<RecordResult[]> {
  const { api, logger } = options;

  return async function writeUnit(unit, context) {
    const { sobject, operation, externalIdField, allOrNone } = unit.group;
    if (unit.records.length > COLLECTIONS_LIMIT) {
      throw new RangeError(
        `A realtime unit holds ${unit.records.length} records; sObject Collections take at most ${COLLECTIONS_LIMIT}: plan realtime units with planWrites`,
      );
    }
    const results: Array<RecordResult | undefined> = unit.records.map(() => undefined);
    const settle = (p: Pending, result: Omit<RecordResult, 'attempts'>) => {
      results[p.index] = { ...result, attempts: p.attempts };
    };
    const fail = (p: Pending, errors: OutcomeError[], retryable: boolean, salesforceId = p.id) => {
      settle(p, {
        status: 'failed',
        errors,
        retryable,
        ...(salesforceId ? { salesforceId } : {}),
        ...(p.maybeApplied ? { maybeApplied: true } : {}),
        ...(p.orgWide ? { orgWide: p.orgWide } : {}),
      });
    };
    const done = () => results as RecordResult[];

    if (operation === 'hardDelete') {
      const unsupported: OutcomeError = {
        code: 'UNSUPPORTED_OPERATION',
        message: 'hardDelete exists only in the Bulk API: map the topic with mode bulk, or use delete',
        fields: [],
      };
      for (let index = 0; index < unit.records.length; index++) {
        fail(pendingOf(index, {}), [unsupported], false);
      }
      return done();
    }

    // 1. Address the records.
    let pending: Pending[] = unit.records.map((record, index) => pendingOf(index, record.fields));
    const byExternalId = externalIdField !== undefined && (operation === 'update' || operation === 'delete');
    if (byExternalId) {
      const values = unit.records.map((r) => r.address?.value ?? '');
      const addressed = await addressByExternalId(
        options.resolve,
        { sobject, field: externalIdField, operation },
        values,
        context,
      );
      const unresolved: Pending[] = [];
      for (const p of pending) {
        p.attempts = 1;
        const address = addressed[p.index]!;
        if ('id' in address) {
          p.id = address.id;
          if (operation === 'update') p.fields = withId(p.fields, address.id, externalIdField);
          continue;
        }
        unresolved.push(p);
        fail(p, [address.error], address.retryable);
      }
      if (unresolved.length > 0 && allOrNone) {
        for (const p of pending) {
          if (!unresolved.includes(p)) fail(p, [rolledBack()], false);
        }
        return done();
      }
      pending = pending.filter((p) => !unresolved.includes(p));
    } else if (operation === 'delete' || operation === 'update') {
      for (const p of pending) p.id = unit.records[p.index]!.address?.value;
    }

    // 2. Write, then follow up on locked rows and refused fields; split content refusals.
    const addressing =
      operation === 'update' ? 'id' : operation === 'upsert' ? externalIdField?.toLowerCase() : undefined;
    let mayHaveWritten = false;
    await writeAll(pending);
    return done();

    /** Writes records until each is settled: follow-up calls for locks and refused fields. */
    async function writeAll(initial: Pending[]): Promise<void> {
      let pending = initial;
      let lockRetries = 0;
      let unitFieldRetryDone = false;
      while (pending.length > 0) {
        const sent = pending;
        let response: ApiResponse;
        try {
          response = await api.call(request(sent), context);
        } catch (error) {
          if (!(error instanceof SalesforceClientError)) throw error;
          // An attempt whose answer was lost (a 5xx after processing, a reset after sending) may have
          // written the records.
          const lost = error.maybeApplied || error instanceof ResponseLostError;
          const condition = orgConditionOf(error);
          // An org-wide refusal before anything of the unit may have been written: the caller holds it.
          if (condition && !mayHaveWritten && !lost) throw error;
          const attempts = (error as { attempts?: number }).attempts ?? 1;
          for (const p of sent) {
            p.attempts += attempts;
            if (lost) p.maybeApplied = true;
            if (condition) p.orgWide = condition;
          }
          if (lost) mayHaveWritten = true;
          if (isContentRefusal(error) && !allOrNone) {
            await isolate(sent, error);
            return;
          }
          // An org-wide refusal processed nothing of this call: the records wait for it to clear.
          const retryable = error.retryable || condition !== undefined;
          for (const p of sent) fail(p, [callError(error)], retryable);
          return;
        }
        for (const p of sent) {
          p.attempts += response.attempts;
          if (response.maybeAppliedBefore) p.maybeApplied = true;
        }
        mayHaveWritten = true;
        let entries: SaveEntry[];
        try {
          entries = parseEntries(response, sent.length);
        } catch (error) {
          // A 2xx we cannot read may still have written the records: for an insert that is a lost response.
          const unreadable =
            operation === 'insert'
              ? new ResponseLostError(request(sent).what, (error as Error).message)
              : (error as SalesforceClientError);
          for (const p of sent) {
            p.maybeApplied = true;
            fail(p, [callError(unreadable)], true);
          }
          return;
        }
        let next: Pending[];
        if (allOrNone) {
          const retry = settleAllOrNone(sent, entries, lockRetries, unitFieldRetryDone);
          if (retry === 'fields') unitFieldRetryDone = true;
          next = retry ? sent : [];
        } else next = sent.filter((p, i) => settleOne(p, entries[i]!, lockRetries));
        if (next.length === 0) return;
        const locked = next.some((p) => p.lastErrors.some((e) => e.code === LOCKED));
        if (locked) {
          const delay = backoffDelay(lockRetries, options.backoff);
          if (options.now() + delay >= context.deadline) {
            for (const p of next) fail(p, p.lastErrors, true);
            return;
          }
          logger.warn('Records locked by another transaction; retrying them', {
            sobject,
            operation,
            records: next.length,
            delayMs: delay,
          });
          await options.sleep(delay);
          lockRetries++;
        }
        pending = next;
      }
    }

    /**
     * Salesforce refused a whole call for its content: halves are written on their own until the
     * record(s) at fault stand alone; each of those fails with Salesforce's error.
     */
    async function isolate(sent: Pending[], error: SalesforceClientError): Promise<void> {
      const column = error instanceof SalesforceApiError ? unknownColumn(error.message) : undefined;
      if (column) {
        options.forgetField?.(sobject, column);
        // The org lacks the field: exactly the records that carry it are at fault.
        const lower = column.toLowerCase();
        const culprits = sent.filter((p) => Object.keys(p.fields).some((k) => k.toLowerCase() === lower));
        if (culprits.length > 0) {
          for (const p of culprits) fail(p, [callError(error)], false);
          const rest = sent.filter((p) => !culprits.includes(p));
          if (rest.length > 0) await writeAll(rest);
          return;
        }
      }
      if (sent.length === 1) {
        fail(sent[0]!, [callError(error)], false);
        return;
      }
      logger.warn('Salesforce refused a whole Collections call for its content; splitting it', {
        sobject,
        operation,
        records: sent.length,
        code: error.code,
      });
      const middle = Math.ceil(sent.length / 2);
      await writeAll(sent.slice(0, middle));
      await writeAll(sent.slice(middle));
    }

    /** Settles a non-allOrNone record from its entry; true when it goes into the follow-up call. */
    function settleOne(p: Pending, entry: SaveEntry, lockRetries: number): boolean {
      if (entry.success) {
        settle(p, succeeded(entry, p));
        return false;
      }
      const errors = outcomeErrors(entry, options.redact);
      p.lastErrors = errors;
      const codes = errors.map((e) => e.code);
      if (operation === 'delete' && p.maybeApplied && codes.every((c) => c === 'ENTITY_IS_DELETED')) {
        // Our own earlier attempt, whose response was lost, deleted it.
        settle(p, {
          status: 'succeeded',
          salesforceId: p.id ?? entry.id ?? undefined,
          errors: [],
          retryable: false,
        });
        return false;
      }
      if (codes.includes(LOCKED) && lockRetries < options.maxRetries) return true;
      if (codes.includes(NOT_WRITABLE) && !p.fieldRetryDone && leaveOut(p, errors)) {
        p.fieldRetryDone = true;
        return true;
      }
      fail(
        p,
        errors,
        codes.some((c) => RETRYABLE_RECORD_CODES.has(c)),
        entry.id ?? p.id,
      );
      return false;
    }

    /**
     * Settles an allOrNone call; returns why the whole unit goes again (`locks`, `fields`), or
     * undefined when every record is settled.
     */
    function settleAllOrNone(
      sent: Pending[],
      entries: SaveEntry[],
      lockRetries: number,
      fieldRetryDone: boolean,
    ): 'locks' | 'fields' | undefined {
      if (entries.every((e) => e.success)) {
        sent.forEach((p, i) => {
          settle(p, succeeded(entries[i]!, p));
        });
        return undefined;
      }
      const errorsOf = entries.map((entry) => outcomeErrors(entry, options.redact));
      sent.forEach((p, i) => {
        p.lastErrors = errorsOf[i]!;
      });
      const causes = errorsOf.flat().filter((e) => e.code !== ROLLED_BACK);
      const onlyLocks = causes.length > 0 && causes.every((e) => e.code === LOCKED);
      if (onlyLocks && lockRetries < options.maxRetries) return 'locks';
      const fixable = causes.every((e) => e.code === LOCKED || e.code === NOT_WRITABLE);
      if (fixable && !fieldRetryDone) {
        const refused = sent.map((p, i) => leaveOut(p, errorsOf[i]!));
        if (refused.some(Boolean)) return 'fields';
      }
      const retryable = causes.length > 0 && causes.every((e) => RETRYABLE_RECORD_CODES.has(e.code));
      sent.forEach((p, i) => {
        const errors = errorsOf[i]!;
        fail(p, errors.length > 0 ? errors : [rolledBack()], retryable, entries[i]!.id ?? p.id);
      });
      return undefined;
    }

    /**
     * Leaves the fields Salesforce refused (never the addressing field) out of this record's next
     * write; false when there is nothing to leave out.
     */
    function leaveOut(p: Pending, errors: OutcomeError[]): boolean {
      const refusals = errors.filter((e) => e.code === NOT_WRITABLE);
      const refused = refusals
        .flatMap(refusedFields)
        .map((f) => f.toLowerCase())
        .filter((f) => f !== addressing);
      if (refused.length === 0) return false;
      for (const f of refused) p.dropped.add(f);
      p.leftOut = refusals;
      logger.warn('Salesforce refused fields; leaving them out of this write', {
        sobject,
        operation,
        fields: refused,
      });
      return true;
    }

    function succeeded(entry: SaveEntry, p: Pending): Omit<RecordResult, 'attempts'> {
      const salesforceId = entry.id ?? p.id;
      const created = operation === 'insert' ? true : operation === 'upsert' ? entry.created : undefined;
      return {
        status: 'succeeded',
        ...(salesforceId ? { salesforceId } : {}),
        ...(created === undefined ? {} : { created }),
        // The write took effect without these fields: Salesforce's refusal says which.
        errors: p.leftOut,
        retryable: false,
      };
    }

    function request(sent: Pending[]) {
      const what = `a Collections ${operation} of ${sent.length} ${sobject} record${sent.length === 1 ? '' : 's'}`;
      if (operation === 'delete') {
        const ids = sent.map((p) => encodeURIComponent(p.id ?? '')).join(',');
        return {
          method: 'DELETE' as const,
          path: `/composite/sobjects?ids=${ids}&allOrNone=${allOrNone}`,
          idempotent: true,
          what,
        };
      }
      const records = sent.map((p) => ({
        attributes: { type: sobject },
        ...without(p.fields, p.dropped, addressing),
      }));
      const body = JSON.stringify({ allOrNone, records });
      if (operation === 'upsert') {
        return {
          method: 'PATCH' as const,
          path: `/composite/sobjects/${encodeURIComponent(sobject)}/${encodeURIComponent(externalIdField ?? '')}`,
          body,
          idempotent: true,
          what,
        };
      }
      return {
        method: operation === 'insert' ? ('POST' as const) : ('PATCH' as const),
        path: '/composite/sobjects',
        body,
        idempotent: operation !== 'insert',
        what,
      };
    }
  };
}

function pendingOf(index: number, fields: JsonObject): Pending {
  return {
    index,
    fields,
    attempts: 0,
    fieldRetryDone: false,
    dropped: new Set(),
    leftOut: [],
    maybeApplied: false,
    lastErrors: [],
  };
}

function isContentRefusal(error: SalesforceClientError): boolean {
  return error instanceof SalesforceApiError && error.status === 400 && CONTENT_REFUSALS.has(error.code);
}

/** The field an INVALID_FIELD refusal names: "No such column 'Foo__c' on sobject of type Lead". */
function unknownColumn(message: string): string | undefined {
  return /No such column '([A-Za-z0-9_]+)'/.exec(message)?.[1];
}

/** An update body addressed by Id: the external id only found the record, it is not a change. */
function withId(fields: JsonObject, id: string, externalIdField: string): JsonObject {
  const lower = externalIdField.toLowerCase();
  const rest = Object.fromEntries(
    Object.entries(fields).filter(([k]) => k.toLowerCase() !== lower && k.toLowerCase() !== 'id'),
  );
  return { Id: id, ...rest };
}

function without(fields: JsonObject, drop: Set<string>, keep: string | undefined): JsonObject {
  if (drop.size === 0) return fields;
  return Object.fromEntries(
    Object.entries(fields).filter(
      ([key, value]) => key.toLowerCase() === keep || ![...drop].some((d) => carries(key, value, d)),
    ),
  );
}

function rolledBack(): OutcomeError {
  return {
    code: ROLLED_BACK,
    message:
      'Record rolled back because not all records were valid and the request was using AllOrNone header',
    fields: [],
  };
}

function callError(error: SalesforceClientError): OutcomeError {
  return {
    code: error.code,
    message: error.message,
    fields: error instanceof SalesforceApiError ? error.fields : [],
  };
}

function parseEntries(response: ApiResponse, expected: number): SaveEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body);
  } catch {
    throw new UnexpectedResponseError('a Collections call', `HTTP ${response.status} without a JSON body`);
  }
  if (!Array.isArray(parsed) || parsed.length !== expected) {
    throw new UnexpectedResponseError(
      'a Collections call',
      `expected ${expected} results, got ${Array.isArray(parsed) ? parsed.length : 'no array'}`,
    );
  }
  return parsed as SaveEntry[];
}
