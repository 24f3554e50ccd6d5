import { describe, expect, it } from 'vitest';
import { recordsOfEvent } from '../../lib/decode/index.ts';
import { mskEvent } from '../events/build-event.ts';
import { deliverUntilCommitted, redeliveryOf } from './event-source.ts';

const event = mskEvent([
  { topic: 'a', partition: 0, offset: 1, value: {} },
  { topic: 'a', partition: 0, offset: 2, value: {} },
  { topic: 'a', partition: 1, offset: 5, value: {} },
]);

describe('event source stand-in', () => {
  it('redelivers only the listed partitions, from the listed offset', () => {
    const again = redeliveryOf(event, {
      batchItemFailures: [{ itemIdentifier: { partition: 'a-0', offset: 2 } }],
    });
    expect(recordsOfEvent(again!).map((r) => [r.partition, r.offset])).toEqual([[0, 2]]);
    expect(redeliveryOf(event, { batchItemFailures: [] })).toBeUndefined();
  });

  it('redelivers the whole batch after a crash, and reports what stays uncommitted', async () => {
    let calls = 0;
    const report = await deliverUntilCommitted(
      event,
      async () => {
        calls++;
        if (calls === 1) throw new Error('crash');
        return { batchItemFailures: [{ itemIdentifier: { partition: 'a-1', offset: 5 } }] };
      },
      { maxInvocations: 3 },
    );
    expect(report).toEqual({ invocations: 3, crashes: 1, uncommitted: 1 });
  });
});
