// The SQS publisher against local-aws-sqs. SDK middleware on the client observes the calls and, where
// a test needs SQS to fail, alters a call or its response: local-aws-sqs cannot be made to fail entries.
import type {
  BatchResultErrorEntry,
  Message,
  SendMessageBatchCommandInput,
  SendMessageBatchCommandOutput,
  SendMessageBatchRequestEntry,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createSqsPublisher,
  isErrorOutcome,
  type Outcome,
  OutcomePublishError,
  TRUNCATION_MARKER,
} from '../../lib/outcomes/index.ts';
import { type SqsStandIn, startSqs } from '../support/index.ts';
import { byCoordinates, outcome, outcomes } from './outcomes.ts';

const LIMIT = 262_144;

let sqs: SqsStandIn;
let client: SQSClient;
let resultQueueUrl: string;
let errorQueueUrl: string;
let queues = 0;

beforeAll(async () => {
  sqs = await startSqs();
});
afterAll(() => sqs.close());

beforeEach(async () => {
  queues += 1;
  client = sqs.createClient();
  resultQueueUrl = await sqs.createQueue(`results-${queues}`);
  errorQueueUrl = await sqs.createQueue(`errors-${queues}`);
});
afterEach(() => client.destroy());

interface BatchCall {
  entries: SendMessageBatchRequestEntry[];
  /** Bodies plus attribute names, types and values: what SQS counts against 256 KiB. */
  bytes: number;
}

/** Records every SendMessageBatch call the client makes. */
function recordBatches(target: SQSClient): BatchCall[] {
  const calls: BatchCall[] = [];
  target.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'SendMessageBatchCommand') {
        const entries = (args.input as SendMessageBatchCommandInput).Entries ?? [];
        calls.push({
          entries: structuredClone(entries),
          bytes: entries.reduce((sum, e) => sum + entryBytes(e), 0),
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'recordBatches' },
  );
  return calls;
}

/**
 * Keeps the entries `fail` picks out of the call and reports them in `Failed`, as SQS does when it
 * fails some entries of a batch. `attempt` counts the calls that carried that entry id so far.
 */
function failEntries(
  target: SQSClient,
  fail: (entry: SendMessageBatchRequestEntry, attempt: number) => BatchResultErrorEntry | undefined,
) {
  const attempts = new Map<string | undefined, number>();
  target.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'SendMessageBatchCommand') return next(args);
      const input = args.input as SendMessageBatchCommandInput;
      const failed: BatchResultErrorEntry[] = [];
      const kept = (input.Entries ?? []).filter((entry) => {
        const attempt = (attempts.get(entry.Id) ?? 0) + 1;
        attempts.set(entry.Id, attempt);
        const failure = fail(entry, attempt);
        if (failure) failed.push(failure);
        return !failure;
      });
      if (kept.length === 0)
        return { output: { $metadata: {}, Successful: [], Failed: failed }, response: {} };
      const result = await next({ ...args, input: { ...input, Entries: kept } });
      const output = result.output as SendMessageBatchCommandOutput;
      output.Failed = [...(output.Failed ?? []), ...failed];
      return result;
    },
    { step: 'initialize', name: 'failEntries' },
  );
}

function entryBytes(entry: SendMessageBatchRequestEntry): number {
  let bytes = Buffer.byteLength(entry.MessageBody ?? '');
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    bytes +=
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType ?? '') +
      Buffer.byteLength(value.StringValue ?? '');
  }
  return bytes;
}

function bodies(messages: Message[]): Outcome[] {
  return messages.map((m) => JSON.parse(m.Body!) as Outcome).sort(byCoordinates);
}

describe('createSqsPublisher', () => {
  it('sends each success to the result queue and each failure and rejection to the error queue, once', async () => {
    const batch = outcomes(25);
    const publisher = createSqsPublisher({ client, resultQueueUrl, errorQueueUrl });
    await publisher.publish(batch);

    const results = await sqs.receiveAll(resultQueueUrl);
    const errors = await sqs.receiveAll(errorQueueUrl);
    expect(bodies(results)).toEqual(batch.filter((o) => !isErrorOutcome(o)).sort(byCoordinates));
    expect(bodies(errors)).toEqual(batch.filter(isErrorOutcome).sort(byCoordinates));
    expect(results).toHaveLength(9);
    expect(errors).toHaveLength(16);
  });

  it('gives each message status, topic, partition, offset and sobject attributes', async () => {
    const publisher = createSqsPublisher({ client, resultQueueUrl, errorQueueUrl });
    await publisher.publish([outcome(7), outcome(8)]);

    const messages = await sqs.receiveAll(errorQueueUrl);
    const at = (offset: number) =>
      messages.find((m) => m.MessageAttributes?.offset?.StringValue === `${offset}`);
    expect(at(7)?.MessageAttributes).toEqual({
      status: { DataType: 'String', StringValue: 'failed' },
      topic: { DataType: 'String', StringValue: 'leads' },
      partition: { DataType: 'Number', StringValue: '1' },
      offset: { DataType: 'Number', StringValue: '7' },
      sobject: { DataType: 'String', StringValue: 'Lead' },
    });
    // A rejection before any mapping was found has no sobject, and SQS takes no empty attribute.
    expect(at(8)?.MessageAttributes).toMatchObject({ status: { StringValue: 'rejected' } });
    expect(at(8)?.MessageAttributes?.sobject).toBeUndefined();
  });

  it('sends at most 10 entries per SendMessageBatch call, with ids unique within a call', async () => {
    const calls = recordBatches(client);
    await createSqsPublisher({ client, resultQueueUrl, errorQueueUrl }).publish(outcomes(25));

    expect(calls.map((c) => c.entries.length).sort((a, b) => a - b)).toEqual([6, 9, 10]);
    for (const call of calls) expect(new Set(call.entries.map((e) => e.Id)).size).toBe(call.entries.length);
  });

  it('splits by size: 20 failures with 60 KB error messages go 4 per call, none shortened', async () => {
    const calls = recordBatches(client);
    const big = outcomes(20, { status: 'failed' }).map((o, i) => ({
      ...o,
      errors: [
        { code: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: `${i}`.padEnd(60_000, 'x'), fields: [] },
      ],
    }));
    await createSqsPublisher({ client, errorQueueUrl }).publish(big);

    expect(calls.map((c) => c.entries.length)).toEqual([4, 4, 4, 4, 4]);
    for (const call of calls) expect(call.bytes).toBeLessThanOrEqual(LIMIT);
    const received = await sqs.receiveAll(errorQueueUrl);
    expect(bodies(received)).toEqual(big.sort(byCoordinates));
    expect(received.every((m) => m.MessageAttributes?.truncated === undefined)).toBe(true);
  });

  it('shortens an outcome over 256 KiB on its own, marks it, and keeps its coordinates', async () => {
    const calls = recordBatches(client);
    const huge = outcome(1, {
      errors: [{ code: 'UNKNOWN_EXCEPTION', message: 'é'.repeat(200_000), fields: ['LastName'] }],
    });
    await createSqsPublisher({ client, errorQueueUrl }).publish([huge, outcome(4)]);

    // Shortened to just under the limit, so the other outcome needs a call of its own.
    expect(calls.map((c) => c.entries.length)).toEqual([1, 1]);
    expect(calls[0]!.bytes).toBeLessThanOrEqual(LIMIT);
    expect(calls[0]!.bytes).toBeGreaterThan(LIMIT - 100);
    const messages = await sqs.receiveAll(errorQueueUrl);
    const shortened = messages.find((m) => m.MessageAttributes?.offset?.StringValue === '1')!;
    expect(shortened.MessageAttributes?.truncated?.StringValue).toBe('true');
    const body = JSON.parse(shortened.Body!) as Outcome;
    expect(body).toEqual({
      ...huge,
      errors: [
        {
          code: 'UNKNOWN_EXCEPTION',
          message: expect.stringMatching(/^é+ …\[truncated\]$/),
          fields: ['LastName'],
        },
      ],
    });
    expect(body.errors[0]!.message.endsWith(TRUNCATION_MARKER)).toBe(true);
  });

  it('retries the entries SQS failed on its side, only those, until each is stored once', async () => {
    const calls = recordBatches(client);
    failEntries(client, (entry, attempt) =>
      attempt <= 2 && Number(entry.Id) % 3 === 0
        ? { Id: entry.Id, SenderFault: false, Code: 'InternalError', Message: 'injected' }
        : undefined,
    );
    const batch = outcomes(25, { status: 'failed' });
    await createSqsPublisher({ client, errorQueueUrl, baseDelayMs: 1 }).publish(batch);

    expect(bodies(await sqs.receiveAll(errorQueueUrl))).toEqual(batch.sort(byCoordinates));
    const sent = new Map<number, number>();
    for (const id of calls.flatMap((c) => c.entries.map((e) => Number(e.Id))))
      sent.set(id, (sent.get(id) ?? 0) + 1);
    for (let id = 0; id < 25; id++) expect(sent.get(id), `entry ${id}`).toBe(id % 3 === 0 ? 3 : 1);
  });

  it('retries a whole call that failed in transit', async () => {
    const calls = recordBatches(client);
    let thrown = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'SendMessageBatchCommand' && thrown++ === 0) {
          throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'dropFirstCall', priority: 'low' },
    );
    await createSqsPublisher({ client, errorQueueUrl, baseDelayMs: 1 }).publish([outcome(1)]);

    expect(calls).toHaveLength(2);
    expect(await sqs.receiveAll(errorQueueUrl)).toHaveLength(1);
  });

  it('gives up after maxAttempts with a clear error', async () => {
    failEntries(client, (entry) => ({ Id: entry.Id, SenderFault: false, Code: 'ServiceUnavailable' }));
    const publish = createSqsPublisher({ client, errorQueueUrl, baseDelayMs: 1, maxAttempts: 3 }).publish([
      outcome(1),
      outcome(2),
    ]);

    await expect(publish).rejects.toThrow(
      `2 outcome(s) were not published to SQS queue ${errorQueueUrl}: SQS failed 2 message(s) on its side (ServiceUnavailable) (after 3 attempts)`,
    );
  });

  it('does not retry an entry SQS refused as invalid (SenderFault) and says why', async () => {
    const calls = recordBatches(client);
    failEntries(client, (entry) =>
      entry.Id === '1'
        ? { Id: entry.Id, SenderFault: true, Code: 'InvalidParameterValue', Message: 'bad body' }
        : undefined,
    );
    const error = await createSqsPublisher({ client, errorQueueUrl, baseDelayMs: 1 })
      .publish([outcome(1), outcome(2)])
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OutcomePublishError);
    expect(error).toMatchObject({ destination: 'sqs', retryable: false, count: 1 });
    expect((error as Error).message).toContain('SenderFault');
    expect((error as Error).message).toContain('leads-2@2: InvalidParameterValue bad body');
    expect(calls).toHaveLength(1);
    expect(bodies(await sqs.receiveAll(errorQueueUrl))).toEqual([outcome(1)]);
  });

  it('fails at once, without retrying, when the queue does not exist', async () => {
    const calls = recordBatches(client);
    const missing = `${sqs.endpoint}/123456789012/no-such-queue`;
    const error = await createSqsPublisher({ client, errorQueueUrl: missing, baseDelayMs: 1 })
      .publish([outcome(1)])
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'OutcomePublishError', retryable: false, count: 1 });
    expect((error as Error).message).toMatch(/QueueDoesNotExist|NonExistentQueue/);
    expect(calls).toHaveLength(1);
  });

  it('publishes nothing of a kind whose queue is not configured', async () => {
    const calls = recordBatches(client);
    await createSqsPublisher({ client, errorQueueUrl }).publish([outcome(0), outcome(3)]);

    expect(calls).toHaveLength(0);
    expect(await sqs.receiveAll(resultQueueUrl)).toHaveLength(0);
  });

  it('on a FIFO queue groups by topic-partition and dedupes a re-publish of the same outcomes', async () => {
    const fifoUrl = await sqs.createQueue(`errors-${queues}.fifo`);
    const publisher = createSqsPublisher({ client, errorQueueUrl: fifoUrl });
    const batch = outcomes(12, { status: 'failed' });
    await publisher.publish(batch);
    await publisher.publish(batch);

    const messages = await sqs.receiveAll(fifoUrl);
    expect(bodies(messages)).toEqual(batch.sort(byCoordinates));
    const first = messages.find((m) => m.MessageAttributes?.offset?.StringValue === '5')!;
    expect(first.Attributes?.MessageGroupId).toBe('leads-2');
    expect(first.Attributes?.MessageDeduplicationId).toMatch(/^[0-9a-f]{64}$/);
  });
});
