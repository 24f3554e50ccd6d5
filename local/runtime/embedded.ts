// The whole sink on one machine: the Salesforce emulator, dynalite, the bulk state machine on
// aws-local-stepfunctions, and the real handlers. `npm start`, `sfsink replay` and the integration
// tests all run through here.

import { dynamoJobStore } from '../../lib/bulk/dynamodb-store.ts';
import { type PollDeps, type PollStep, pollBulkJob } from '../../lib/bulk/poll.ts';
import { type BulkExecutionInput, bulkStateMachineDefinition } from '../../lib/bulk/state-machine.ts';
import type { JobStore } from '../../lib/bulk/store.ts';
import { dynamoCheckpointStore } from '../../lib/checkpoint/dynamodb-store.ts';
import type { SinkConfig } from '../../lib/config/index.ts';
import type { LambdaKafkaEvent } from '../../lib/decode/index.ts';
import { type SinkLogger, silentLogger } from '../../lib/logger.ts';
import { dynamoOrgHealthStore } from '../../lib/org-health/dynamodb-store.ts';
import type { HoldPacing, OrgHealthStore } from '../../lib/org-health/health.ts';
import {
  createMemoryPublisher,
  type MemoryPublisher,
  type OutcomePublisher,
} from '../../lib/outcomes/index.ts';
import { indexMappings } from '../../lib/resolve/resolve.ts';
import { createSalesforceClient } from '../../lib/salesforce/index.ts';
import type { SalesforceClient, SalesforceCredentials } from '../../lib/salesforce/types.ts';
import { type BatchResult, processBatch, type SinkDeps, type Step } from '../../lib/sink/process-batch.ts';
import { type Emulator, type EmulatorOptions, startEmulator } from '../emulator/server.ts';
import { seededRandom } from '../random.ts';
import { type LocalDynamo, startLocalDynamo } from '../stand-ins/dynamodb.ts';
import { consumeStream, type DeliveryReport, deliverUntilCommitted } from '../stand-ins/event-source.ts';
import { type LocalExecutions, localExecutions } from '../stand-ins/step-functions.ts';
import type { SalesforceObserver } from './api-meter.ts';

/** The poller's function ARN in the local definition; aws-local-stepfunctions runs a local handler instead. */
export const LOCAL_POLLER_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:sfsink-bulk-poller';

export interface EmbeddedOptions {
  config: SinkConfig;
  /** Salesforce: the emulator (default, started here with these options) or real credentials. */
  emulator?: EmulatorOptions;
  credentials?: SalesforceCredentials;
  /** Every outcome goes here too (a memory publisher by default). */
  publisher?: OutcomePublisher;
  /** The state machine definition to run (default: the one `infra/` deploys). */
  definition?: Record<string, unknown>;
  /** Milliseconds a Wait state lasts locally. */
  waitMs?: number;
  group?: string;
  logger?: SinkLogger;
  /**
   * How long an invocation waits in all for an org-wide condition to clear (default 0: it answers at
   * once, the partitions held), and the pacing of tries while one lasts (default 15 s doubling to 5 min).
   */
  hold?: { maxWaitMs?: number; pacing?: HoldPacing };
  /** The Salesforce client's retry backoff (tests shorten it; default the client's own). */
  backoff?: { baseDelayMs?: number; maxDelayMs?: number };
  /** Sees the Salesforce client's calls (the summaries count them per topic). */
  observer?: SalesforceObserver;
  /** Rounds an execution makes before handing over to a successor (default the poller's own). */
  pollsPerExecution?: number;
  /** How often the sink checks the group's followed bulk units for a running execution (default 0: always). */
  bulkSweepIntervalMs?: number;
  /** How long a delivery waits for its partitions' earlier bulk jobs (default 2 s, checked every Wait). */
  bulkBarrier?: { maxWaitMs: number; intervalMs: number };
}

export interface InvokeOptions {
  after?: (step: Step) => void | Promise<void>;
  overrides?: Partial<SinkDeps>;
}

/** Hooks around the bulk poller Lambda: a throw from either stands for the Lambda failing there. */
export interface PollerHooks {
  /** Before the handler runs (an invocation error: the secret cannot be read, the runtime failed…). */
  before?: (input: BulkExecutionInput) => void | Promise<void>;
  /** After a step of the round. */
  after?: (step: PollStep) => void | Promise<void>;
}

export interface Embedded {
  emulator: Emulator | undefined;
  dynamo: LocalDynamo;
  salesforce: SalesforceClient;
  jobs: JobStore;
  executions: LocalExecutions;
  /** Set to make the poller fail (see PollerHooks). */
  poller: PollerHooks;
  outcomes: MemoryPublisher;
  health: OrgHealthStore;
  /**
   * One invocation of the sink handler; `after` lets a test crash it after a step, `overrides` replace
   * dependencies (e.g. a Salesforce client from other credentials).
   */
  invoke(event: LambdaKafkaEvent, options?: InvokeOptions): Promise<BatchResult>;
  /** Delivers an event until the event source mapping would have committed it all. */
  deliver(
    event: LambdaKafkaEvent,
    options?: InvokeOptions & { maxInvocations?: number; stopWhenHeld?: boolean },
  ): Promise<DeliveryReport>;
  /**
   * Consumes an event as a stream, in batches of varying size per partition, as the event source
   * mapping re-polls (a redelivery may group records differently).
   */
  consume(
    event: LambdaKafkaEvent,
    options: {
      maxBatch: number;
      seed?: number;
      after?: (step: Step) => void | Promise<void>;
      maxInvocations?: number;
    },
  ): Promise<DeliveryReport>;
  /**
   * Uses this configuration for the invocations from now on (as a redeploy would); the stand-ins, the
   * Salesforce client and the bulk poller stay as they are.
   */
  reconfigure(config: SinkConfig): void;
  /** Waits for every bulk execution started so far to end. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts the embedded runtime.
 *
 * @example
 * const sink = await startEmbedded({ config });
 * await sink.deliver(event);
 * await sink.settle();
 * sink.outcomes.outcomes; // one per record
 */
export async function startEmbedded(options: EmbeddedOptions): Promise<Embedded> {
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  const emulator = options.credentials ? undefined : await startEmulator(options.emulator ?? {});
  const credentials: SalesforceCredentials = options.credentials ?? {
    authType: 'client_credentials',
    loginUrl: emulator!.url,
    clientId: emulator!.credentials.clientId,
    clientSecret: emulator!.credentials.clientSecret,
  };
  const dynamo = await startLocalDynamo();
  const memory = createMemoryPublisher();
  const publisher: OutcomePublisher = options.publisher
    ? {
        async publish(outcomes) {
          await options.publisher!.publish(outcomes);
          await memory.publish(outcomes);
        },
        async close() {
          await options.publisher!.close();
        },
      }
    : memory;
  const observer = options.observer;
  const client = createSalesforceClient({
    credentials,
    config,
    logger,
    ...(options.backoff ? { backoff: options.backoff } : {}),
    ...(observer ? { send: observer.send, sendStreamed: observer.sendStreamed } : {}),
  });
  const salesforce = observer ? observer.client(client) : client;
  const jobs = dynamoJobStore(dynamo.client, dynamo.table);
  const checkpoints = dynamoCheckpointStore(dynamo.client, dynamo.table);
  const health = dynamoOrgHealthStore(dynamo.client, dynamo.table, options.hold?.pacing);
  const farFuture = () => Date.now() + 15 * 60_000;
  // The configuration of the invocations to come: `reconfigure` swaps it, as a redeploy would.
  let current = { config, mappings: indexMappings(config) };
  const hooks: PollerHooks = {};
  const pollDeps = (): PollDeps => ({
    config: current.config,
    salesforce: async () => salesforce,
    jobs,
    publisher,
    deadline: farFuture(),
    logger,
    ...(options.pollsPerExecution ? { pollsPerExecution: options.pollsPerExecution } : {}),
    after: (step) => hooks.after?.(step),
  });
  const executions = localExecutions({
    definition: options.definition ?? bulkStateMachineDefinition({ pollerFunctionArn: LOCAL_POLLER_ARN }),
    poller: async (input) => {
      await hooks.before?.(input);
      return pollBulkJob(input, pollDeps());
    },
    waitMs: options.waitMs ?? 20,
  });
  // Locally the runtime knows when an invocation has ended (returned or thrown), so a redelivery need
  // not wait out the deadline of an invocation that crashed.
  const ended = new Set<string>();
  let invocations = 0;
  const sinkDeps = ({ after, overrides }: InvokeOptions = {}): SinkDeps => ({
    invocationId: `local-${process.pid}-${++invocations}-${Date.now()}`,
    hasEnded: (id) => ended.has(id) || !id.startsWith(`local-${process.pid}-`),
    config: current.config,
    mappings: current.mappings,
    group: options.group ?? 'local',
    salesforce,
    checkpoints,
    health,
    holdMaxWaitMs: options.hold?.maxWaitMs ?? 0,
    jobs,
    executions,
    publisher,
    deadline: farFuture(),
    logger,
    bulkBarrier: options.bulkBarrier ?? { maxWaitMs: 2_000, intervalMs: Math.max(5, options.waitMs ?? 20) },
    bulkSweepIntervalMs: options.bulkSweepIntervalMs ?? 0,
    ...(after ? { after } : {}),
    ...overrides,
  });

  const invoke = (event: LambdaKafkaEvent, invokeOptions?: InvokeOptions) => {
    const deps = sinkDeps(invokeOptions);
    return processBatch(event, deps).finally(() => ended.add(deps.invocationId!));
  };

  return {
    emulator,
    dynamo,
    salesforce,
    jobs,
    executions,
    poller: hooks,
    outcomes: memory,
    health,
    invoke,
    deliver: (event, deliverOptions = {}) =>
      deliverUntilCommitted(event, (e) => invoke(e, deliverOptions), {
        maxInvocations: deliverOptions.maxInvocations ?? 200,
        stopWhenHeld: deliverOptions.stopWhenHeld ?? false,
        // A partition waiting for its bulk job gets it back after a pause, as the event source would.
        onRetry: () => new Promise((resolve) => setTimeout(resolve, options.waitMs ?? 20)),
      }),
    consume: (event, consumeOptions) =>
      consumeStream(event, (e) => invoke(e, consumeOptions), {
        maxBatch: consumeOptions.maxBatch,
        random: seededRandom(consumeOptions.seed ?? 1),
        maxInvocations: consumeOptions.maxInvocations ?? 500,
        onRetry: () => new Promise((resolve) => setTimeout(resolve, options.waitMs ?? 20)),
      }),
    reconfigure(next) {
      current = { config: next, mappings: indexMappings(next) };
    },
    settle: () => executions.settle(),
    async close() {
      await executions.settle().catch(() => undefined);
      await publisher.close();
      await dynamo.close();
      await emulator?.close();
    },
  };
}
