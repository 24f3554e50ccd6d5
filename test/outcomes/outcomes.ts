// Outcomes for the publisher tests.
import type { Outcome, OutcomeStatus } from '../../lib/outcomes/index.ts';

const STATUSES: OutcomeStatus[] = ['succeeded', 'failed', 'rejected'];

/** The outcome of offset `offset` of `leads` partition `offset % 3`; status cycles succeeded, failed, rejected. */
export function outcome(offset: number, overrides: Partial<Outcome> = {}): Outcome {
  const status = overrides.status ?? STATUSES[offset % 3]!;
  const base: Outcome = {
    status,
    topic: 'leads',
    partition: offset % 3,
    offset,
    key: offset % 4 === 0 ? null : `lead-${offset}`,
    sobject: 'Lead',
    operation: 'upsert',
    mode: 'realtime',
    errors: [],
    attempts: status === 'rejected' ? 0 : 1,
    timestamp: '2025-01-02T03:04:05.000Z',
  };
  if (status === 'succeeded')
    Object.assign(base, { salesforceId: `00Q${String(offset).padStart(15, '0')}`, created: true });
  if (status === 'failed') {
    base.errors = [
      {
        code: 'REQUIRED_FIELD_MISSING',
        message: 'Required fields are missing: [LastName]',
        fields: ['LastName'],
      },
    ];
  }
  if (status === 'rejected') {
    base.errors = [{ code: 'INVALID_JSON', message: 'the value is not JSON', fields: [] }];
    base.sobject = null;
    base.operation = null;
    base.mode = null;
  }
  return { ...base, ...overrides };
}

/** `count` outcomes at offsets 0 … count-1. */
export function outcomes(count: number, overrides: Partial<Outcome> = {}): Outcome[] {
  return Array.from({ length: count }, (_, offset) => outcome(offset, overrides));
}

/** Sorts by topic, partition and offset, the order-free identity of an outcome. */
export function byCoordinates(a: Outcome, b: Outcome): number {
  return a.topic.localeCompare(b.topic) || a.partition - b.partition || a.offset - b.offset;
}
