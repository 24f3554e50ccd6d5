// Outcomes to SQS: successes to the result queue, failures and rejections to the error queue, with
// SendMessageBatch calls of at most 10 messages and 256 KiB.
//
// Duplicates: publish may be repeated for the same records (a retried invocation re-publishes every
// outcome of its batch). On a FIFO queue (URL ending in `.fifo`) every message carries a
// MessageDeduplicationId derived from topic, partition, offset and status, so SQS drops a repeat sent
// within its 5-minute deduplication interval (a repeat after that is stored again); its MessageGroupId is
// `topic-partition`, so a partition's outcomes are delivered in the order sent (an entry that needed a
// retry may come after later ones). On a standard queue consumers must dedupe by (topic, partition,
// offset), which every message carries as attributes (with status and sobject) as well as in its body.
//
// A failed batch stops the publish: calls in flight finish, no new call starts, and publish rejects
// with the number of outcomes not stored. The SQS client's own retries come under each attempt here.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { withDefaults } from './defaults.ts';
import { encodeOutcome } from './encode.ts';
import { OutcomePublishError } from './errors.ts';
import { type PublisherLogger, silentLogger } from './logger.ts';
import { isErrorOutcome, type Outcome } from './outcome.ts';
import type { OutcomePublisher } from './publisher.ts';

export interface SqsPublisherOptions {
  /** The process's SQS client; the publisher never closes it. */
  client: SQSClient;
  /** Queue for `succeeded` outcomes; without it successes are not sent to SQS. */
  resultQueueUrl?: string;
  /** Queue for `failed` and `rejected` outcomes; without it those are not sent to SQS. */
  errorQueueUrl?: string;
  /** Calls per batch (whole-call errors and entries SQS failed on its side) before publish rejects. */
  maxAttempts?: number;
  /** First backoff between attempts; doubles each attempt, with full jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Limit of one message and of one SendMessageBatch call (body plus attributes). */
  maxBatchBytes?: number;
  /** SendMessageBatch calls in flight per standard queue (FIFO queues get one, to keep group order). */
  concurrency?: number;
  logger?: PublisherLogger;
}

const defaults = {
  maxAttempts: 5,
  baseDelayMs: 100,
  maxDelayMs: 3_000,
  maxBatchBytes: 262_144,
  concurrency: 4,
  logger: silentLogger,
};

/** SQS takes at most 10 entries per SendMessageBatch. */
const MAX_ENTRIES = 10;
/** Room kept for the `truncated` attribute (name, data type and value) when a body is shortened. */
const TRUNCATED_ATTRIBUTE_BYTES = 'truncated'.length + 'String'.length + 'true'.length;
const THROTTLING = new Set([
  'RequestThrottled',
  'ThrottlingException',
  'KmsThrottled',
  'KMS.ThrottlingException',
]);

interface Entry {
  request: SendMessageBatchRequestEntry;
  /** What SQS counts against its size limits: body plus attribute names, types and values. */
  bytes: number;
}

interface Retry {
  pending: SendMessageBatchRequestEntry[];
  detail: string;
  cause?: unknown;
}

/**
 * Publishes outcomes to SQS queues. `publish` resolves once SQS accepted every message; it retries
 * throttling, 5xx and entries SQS failed on its side, and rejects with `OutcomePublishError` when an
 * entry is refused as invalid (`SenderFault`) or attempts run out.
 *
 * @example
 * const publisher = createSqsPublisher({ client: new SQSClient({}), errorQueueUrl: config.results.sqs.errorQueueUrl });
 * await publisher.publish(outcomes);
 */
export function createSqsPublisher(options: SqsPublisherOptions): OutcomePublisher {
  const o = withDefaults(defaults, options);

  /** One call: undefined when SQS stored every entry, else what is left to retry and why. */
  async function sendOnce(
    queueUrl: string,
    entries: SendMessageBatchRequestEntry[],
  ): Promise<Retry | undefined> {
    let response: SendMessageBatchCommandOutput;
    try {
      response = await o.client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    } catch (error) {
      if (isRetryable(error)) return { pending: entries, detail: describe(error), cause: error };
      throw new OutcomePublishError(
        'sqs',
        queueUrl,
        entries.length,
        `${describe(error)}; retrying cannot fix this`,
        { retryable: false, cause: error },
      );
    }
    const stored = new Set(response.Successful?.map((s) => s.Id));
    const failed = response.Failed ?? [];
    const refused = failed.filter((f) => f.SenderFault);
    if (refused.length > 0) {
      const reasons = refused.map((f) =>
        `${coordinatesOf(entries, f.Id)}: ${f.Code} ${f.Message ?? ''}`.trim(),
      );
      throw new OutcomePublishError(
        'sqs',
        queueUrl,
        entries.length - stored.size,
        `SQS refused ${refused.length} message(s) as invalid (SenderFault), which retrying cannot fix: ${reasons.join('; ')}`,
        { retryable: false },
      );
    }
    const pending = entries.filter((e) => !stored.has(e.Id));
    if (pending.length === 0) return undefined;
    const codes = [...new Set(failed.map((f) => f.Code))].join(', ') || 'no result returned for them';
    return { pending, detail: `SQS failed ${pending.length} message(s) on its side (${codes})` };
  }

  async function sendBatch(queueUrl: string, batch: Entry[]): Promise<void> {
    let pending = batch.map((e) => e.request);
    for (let attempt = 1; ; attempt++) {
      const retry = await sendOnce(queueUrl, pending);
      if (!retry) return;
      pending = retry.pending;
      if (attempt >= o.maxAttempts) {
        throw new OutcomePublishError(
          'sqs',
          queueUrl,
          pending.length,
          `${retry.detail} (after ${attempt} attempts)`,
          { retryable: true, cause: retry.cause },
        );
      }
      o.logger.warn('Retrying outcomes SQS did not store', {
        queueUrl,
        attempt,
        messages: pending.length,
        detail: retry.detail,
      });
      await sleep(backoff(attempt, o.baseDelayMs, o.maxDelayMs));
    }
  }

  async function publishToQueue(queueUrl: string, outcomes: Outcome[]): Promise<void> {
    const fifo = queueUrl.endsWith('.fifo');
    let entries: Entry[];
    try {
      entries = outcomes.map((outcome, index) => toEntry(outcome, index, fifo, o.maxBatchBytes, o.logger));
    } catch (error) {
      throw new OutcomePublishError('sqs', queueUrl, outcomes.length, describe(error), {
        retryable: false,
        cause: error,
      });
    }
    const batches = chunk(entries, o.maxBatchBytes);
    let next = 0;
    let stored = 0;
    let failure: OutcomePublishError | undefined;
    const worker = async () => {
      while (!failure && next < batches.length) {
        const batch = batches[next++]!;
        try {
          await sendBatch(queueUrl, batch);
          stored += batch.length;
        } catch (error) {
          const batchFailure =
            error instanceof OutcomePublishError
              ? error
              : new OutcomePublishError('sqs', queueUrl, batch.length, describe(error), {
                  retryable: true,
                  cause: error,
                });
          stored += batch.length - batchFailure.count;
          failure ??= batchFailure;
        }
      }
    };
    const workers = Math.min(fifo ? 1 : o.concurrency, batches.length);
    await Promise.all(Array.from({ length: workers }, worker));
    if (failure) {
      throw new OutcomePublishError('sqs', queueUrl, outcomes.length - stored, failure.detail, {
        retryable: failure.retryable,
        cause: failure.cause,
      });
    }
  }

  return {
    async publish(outcomes) {
      const targets: [string | undefined, Outcome[]][] = [
        [o.resultQueueUrl, outcomes.filter((x) => !isErrorOutcome(x))],
        [o.errorQueueUrl, outcomes.filter(isErrorOutcome)],
      ];
      const settled = await Promise.allSettled(
        targets.flatMap(([url, list]) => (url && list.length > 0 ? [publishToQueue(url, list)] : [])),
      );
      const rejected = settled.find((s) => s.status === 'rejected');
      if (rejected) throw rejected.reason;
    },
    async close() {},
  };
}

function toEntry(
  outcome: Outcome,
  index: number,
  fifo: boolean,
  maxBytes: number,
  logger: PublisherLogger,
): Entry {
  const attributes: Record<string, MessageAttributeValue> = {
    status: { DataType: 'String', StringValue: outcome.status },
    topic: { DataType: 'String', StringValue: outcome.topic },
    partition: { DataType: 'Number', StringValue: String(outcome.partition) },
    offset: { DataType: 'Number', StringValue: String(outcome.offset) },
  };
  if (outcome.sobject) attributes.sobject = { DataType: 'String', StringValue: outcome.sobject };
  const attributeBytes = Object.entries(attributes).reduce(
    (sum, [name, a]) =>
      sum + Buffer.byteLength(name) + Buffer.byteLength(a.DataType!) + Buffer.byteLength(a.StringValue!),
    0,
  );
  const encoded = encodeOutcome(outcome, maxBytes - attributeBytes - TRUNCATED_ATTRIBUTE_BYTES);
  if (encoded.truncated) {
    attributes.truncated = { DataType: 'String', StringValue: 'true' };
    logger.warn('Outcome shortened to fit the SQS message size limit', coordinates(outcome));
  }
  const request: SendMessageBatchRequestEntry = {
    Id: String(index),
    MessageBody: encoded.body,
    MessageAttributes: attributes,
  };
  if (fifo) {
    request.MessageGroupId = groupId(outcome);
    request.MessageDeduplicationId = sha256(
      `${outcome.topic}\n${outcome.partition}\n${outcome.offset}\n${outcome.status}`,
    );
  }
  return {
    request,
    bytes: encoded.bytes + attributeBytes + (encoded.truncated ? TRUNCATED_ATTRIBUTE_BYTES : 0),
  };
}

/** Splits entries, in order, into calls of at most 10 entries and `maxBytes` together. */
function chunk(entries: Entry[], maxBytes: number): Entry[][] {
  const batches: Entry[][] = [];
  let current: Entry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (current.length === MAX_ENTRIES || (current.length > 0 && bytes + entry.bytes > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += entry.bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** `topic-partition`, within SQS's 128 characters (a long topic name is cut and made unique by a hash). */
function groupId(outcome: Outcome): string {
  const id = `${outcome.topic}-${outcome.partition}`;
  return id.length <= 128
    ? id
    : `${outcome.topic.slice(0, 80)}~${sha256(outcome.topic).slice(0, 16)}-${outcome.partition}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function isRetryable(error: unknown): boolean {
  const e = error as { $fault?: string; $retryable?: unknown; name?: string };
  if (e.$retryable || THROTTLING.has(e.name ?? '')) return true;
  // Network errors and timeouts carry no $fault; 4xx other than throttling (missing queue, access
  // denied, invalid parameters) fail the same way every time.
  return e.$fault !== 'client';
}

function backoff(attempt: number, base: number, max: number): number {
  return Math.random() * Math.min(max, base * 2 ** (attempt - 1));
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function coordinates(outcome: Outcome) {
  return { topic: outcome.topic, partition: outcome.partition, offset: outcome.offset };
}

function coordinatesOf(entries: SendMessageBatchRequestEntry[], id: string | undefined): string {
  const attributes = entries.find((e) => e.Id === id)?.MessageAttributes;
  if (!attributes) return `entry ${id}`;
  return `${attributes.topic?.StringValue}-${attributes.partition?.StringValue}@${attributes.offset?.StringValue}`;
}
