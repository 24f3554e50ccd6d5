// The outcome: one per input record, the user-facing result of the sink (documented in the README).
import { createHash } from 'node:crypto';
import type { Mode, Operation } from '../config/index.ts';
import type { Rejection } from '../records.ts';

export type OutcomeStatus = 'succeeded' | 'failed' | 'rejected';

/** Salesforce's per-record error verbatim (`statusCode`/`errorCode` as `code`), or a sink rejection code. */
export interface OutcomeError {
  code: string;
  message: string;
  fields: string[];
}

export interface Outcome {
  status: OutcomeStatus;
  topic: string;
  partition: number;
  offset: number;
  /** The Kafka key as UTF-8 text, or null. */
  key: string | null;
  /** Null only for records rejected before a mapping was found. */
  sobject: string | null;
  operation: Operation | null;
  mode: Mode | null;
  /** The Salesforce record Id, where known (successes; failures of update/delete). */
  salesforceId?: string;
  /** Upsert (and insert) successes: whether a record was created. */
  created?: boolean;
  errors: OutcomeError[];
  /** Bulk records: the Bulk API 2.0 job that carried the record. */
  bulkJobId?: string;
  /** Salesforce calls made for this record (1 when the first try settled it; 0 for rejections). */
  attempts: number;
  /** When the outcome was decided (ISO-8601 UTC). */
  timestamp: string;
}

/**
 * The outcome of a record the pipeline rejected.
 *
 * @example
 * publish(rejectedOutcome(rejection, mapping, new Date()));
 */
export function rejectedOutcome(
  rejection: Rejection,
  context: { sobject?: string; operation?: Operation; mode?: Mode } = {},
  now: Date = new Date(),
): Outcome {
  return {
    status: 'rejected',
    ...rejection.record,
    sobject: context.sobject ?? null,
    operation: context.operation ?? null,
    mode: context.mode ?? null,
    errors: [{ code: rejection.code, message: rejection.message, fields: rejection.fields }],
    attempts: 0,
    timestamp: now.toISOString(),
  };
}

/** Where an outcome goes: successes to the result destination, everything else to the error one. */
export function isErrorOutcome(outcome: Outcome): boolean {
  return outcome.status !== 'succeeded';
}

/** Keys longer than this (UTF-8 bytes) are replaced by their digest wherever an outcome is stored. */
export const MAX_KEY_BYTES = 16_384;

/**
 * The key as destinations store it: the key itself, or for a key over MAX_KEY_BYTES its SHA-256 and
 * length, `sha256:<hex> (<n> bytes)`, so no outcome (nor the bulk job store's correlation rows) grows
 * with the size of a producer's key. Consumers that need to match such a record hash its key.
 *
 * @example
 * boundedKey('k-1'); // 'k-1'
 * boundedKey('x'.repeat(600_000)); // 'sha256:… (600000 bytes)'
 */
export function boundedKey(key: string | null): string | null {
  if (key === null || key.length <= MAX_KEY_BYTES / 3) return key;
  const bytes = Buffer.byteLength(key);
  return bytes <= MAX_KEY_BYTES ? key : keyDigest(key);
}

/**
 * A key's SHA-256 and UTF-8 length, `sha256:<hex> (<n> bytes)`: what stands for a key too long to store.
 *
 * @example
 * keyDigest('k'); // 'sha256:8254c329a92850f6d539dd376f4816ee2764517da5e0235514af433164480d7a (1 bytes)'
 */
export function keyDigest(key: string): string {
  if (DIGEST_KEY.test(key)) return key;
  return `sha256:${createHash('sha256').update(key).digest('hex')} (${Buffer.byteLength(key)} bytes)`;
}

const DIGEST_KEY = /^sha256:[0-9a-f]{64} \(\d+ bytes\)$/;
