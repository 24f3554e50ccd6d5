// What the sink would do with an org, found out without writing to it: `sfsink check` (can it log in,
// what do the limits say, does every mapping fit the org's describe, what would happen to these
// records) and `sfsink replay --dry-run` (the operations, units, calls and bulk jobs a replay would
// make, and every rejection). Only reads: the token request, /limits, describes.

import type { SinkConfig, TopicMapping } from '../lib/config/index.ts';
import { type MappingProblem, mappingProblem, unknownSObject } from '../lib/config/org-check.ts';
import { type LambdaKafkaEvent, recordsOfEvent } from '../lib/decode/index.ts';
import { prepareRecord } from '../lib/pipeline.ts';
import { planWrites } from '../lib/plan/plan.ts';
import { isRejection, type KafkaRecord, type Rejection } from '../lib/records.ts';
import { indexMappings } from '../lib/resolve/resolve.ts';
import {
  createClientCache,
  createSalesforceClient,
  orgConditionOf,
  SalesforceApiError,
  type SalesforceClient,
  type SalesforceCredentials,
} from '../lib/salesforce/index.ts';
import type { ShapedRecord } from '../lib/shape/shape.ts';
import type { SObjectSchema } from '../lib/shape/sobject-schema.ts';

/** One line of the check: passed or not, what was checked, what was found, and the fix when it failed. */
export interface CheckRow {
  ok: boolean;
  what: string;
  detail: string;
  fix?: string;
}

/** The describe of each mapped sObject, or why a mapping cannot work with the org. */
export interface OrgView {
  client: SalesforceClient;
  schemas: Map<string, SObjectSchema>;
  problems: Map<TopicMapping, MappingProblem>;
}

const context = () => ({ deadline: Date.now() + 120_000 });

/**
 * Logs in (through the first call) and describes every mapped sObject. An org-wide refusal (the login,
 * the limit) is thrown; a missing sObject or a bad external id field is a problem of its mapping.
 *
 * @example
 * const view = await viewOrg(config, credentials);
 * view.problems.get(config.mappings[0]); // undefined when the mapping fits the org
 */
export async function viewOrg(config: SinkConfig, credentials: SalesforceCredentials): Promise<OrgView> {
  const client = createSalesforceClient({ credentials, config, cache: createClientCache() });
  const schemas = new Map<string, SObjectSchema>();
  const problems = new Map<TopicMapping, MappingProblem>();
  for (const mapping of config.mappings) {
    let schema = schemas.get(mapping.sobject);
    if (!schema) {
      try {
        schema = await client.schemaOf(mapping.sobject, context());
        schemas.set(mapping.sobject, schema);
      } catch (error) {
        if (
          error instanceof SalesforceApiError &&
          (error.status === 404 || error.errorCode === 'NOT_FOUND')
        ) {
          problems.set(mapping, unknownSObject(mapping));
          continue;
        }
        throw error;
      }
    }
    const problem = mappingProblem(mapping, schema);
    if (problem) problems.set(mapping, problem);
  }
  return { client, schemas, problems };
}

/** What would happen to the records of one topic. */
export interface TopicPreview {
  topic: string;
  records: number;
  /** Operation → records that would be written with it. */
  operations: Map<string, number>;
  /** Records of a mapping that cannot work with the org (they would fail at once). */
  invalid: number;
  rejections: { record: KafkaRecord; rejection: Rejection }[];
  /** Field → how many records would be written without it, and why. */
  dropped: Map<string, { count: number; why: string }>;
  /** Collections calls (write units, plus the Id lookups of update/delete by external id). */
  calls: number;
  bulkJobs: number;
}

const META = new Set(['_eventtype', '_objecttype', 'attributes']);

/** Why a field of the record is not among the fields it would be written with. */
function whyDropped(name: string, record: ShapedRecord, schema: SObjectSchema): string {
  const lower = name.toLowerCase();
  if (record.mapping.ignoreFields.some((f) => f.toLowerCase() === lower)) return 'in ignoreFields';
  if (lower === 'id')
    return record.operation === 'insert' ? 'an insert never sends Id' : 'addressed by the external id';
  if (schema.compounds.has(lower)) return 'a compound field (its parts are written)';
  const field = schema.fields.get(lower);
  if (!field) return 'not a field of the sObject (unknownFields: ignore)';
  if (record.operation === 'insert') return 'not createable';
  return record.operation === 'update' ? 'not updateable' : 'neither createable nor updateable';
}

/**
 * Decodes, resolves, shapes and plans the events' records against the org's describes, as the sink
 * would, and says per topic what would happen. Each event is planned as one batch.
 *
 * @example
 * const topics = previewEvents(events, config, view);
 */
export function previewEvents(
  events: readonly LambdaKafkaEvent[],
  config: SinkConfig,
  view: OrgView,
): TopicPreview[] {
  const mappings = indexMappings(config);
  const topics = new Map<string, TopicPreview>();
  const topicOf = (topic: string) => {
    let t = topics.get(topic);
    if (!t) {
      t = {
        topic,
        records: 0,
        operations: new Map(),
        invalid: 0,
        rejections: [],
        dropped: new Map(),
        calls: 0,
        bulkJobs: 0,
      };
      topics.set(topic, t);
    }
    return t;
  };
  for (const event of events) {
    const shaped: ShapedRecord[] = [];
    for (const record of recordsOfEvent(event)) {
      const t = topicOf(record.topic);
      t.records++;
      const mapping = mappings.get(record.topic);
      if (mapping && view.problems.has(mapping)) {
        t.invalid++;
        continue;
      }
      const prepared = prepareRecord(record, { config, mappings, schemaOf: (s) => view.schemas.get(s) });
      if (isRejection(prepared)) {
        t.rejections.push({ record, rejection: prepared });
        continue;
      }
      shaped.push(prepared);
      t.operations.set(prepared.operation, (t.operations.get(prepared.operation) ?? 0) + 1);
      const schema = view.schemas.get(prepared.mapping.sobject)!;
      const sent = new Set(Object.keys(prepared.fields).map((f) => f.toLowerCase()));
      for (const name of Object.keys(prepared.value)) {
        const lower = name.toLowerCase();
        if (META.has(lower) || sent.has(lower) || schema.relationships.has(lower)) continue;
        const entry = t.dropped.get(name) ?? { count: 0, why: whyDropped(name, prepared, schema) };
        entry.count++;
        t.dropped.set(name, entry);
      }
    }
    for (const stage of planWrites(shaped, { bulkUnitSize: config.bulk.batchSize }).stages) {
      for (const unit of stage) {
        // A unit may carry records of several topics mapped alike: each counts it.
        for (const topic of new Set(unit.records.map((r) => r.topic))) {
          const t = topicOf(topic);
          if (unit.group.mode === 'bulk') t.bulkJobs++;
          else {
            const lookup = unit.group.externalIdField !== undefined && unit.group.operation !== 'upsert';
            t.calls += lookup ? 2 : 1;
          }
        }
      }
    }
  }
  return [...topics.values()];
}

/** The condition of an org-wide refusal as a failed check row, or undefined for other errors. */
export function refusalRow(error: unknown): CheckRow | undefined {
  const condition = orgConditionOf(error);
  if (!condition) return undefined;
  const what =
    condition.reason === 'DAILY_API_LIMIT' || condition.reason === 'CONCURRENCY_LIMIT'
      ? 'API requests'
      : condition.reason === 'MAINTENANCE'
        ? 'org'
        : 'login';
  return { ok: false, what, detail: condition.reason, fix: condition.message };
}
