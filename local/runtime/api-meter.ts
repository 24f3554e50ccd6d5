// Salesforce API calls per topic, for the summaries of `sfsink run` and `replay`. The client's methods
// run inside an async context naming the topics they serve (a unit's records; for describe, external
// id lookups and bulk jobs, the topics mapped to that sObject), and the transport counts each HTTP
// request under the topics of the context it was sent from, so concurrent calls are attributed
// exactly. Token requests are not counted (Salesforce does not count them either). Retries are read
// from the client's log: a call's attempt number past 1, and the resends of locked rows and of
// records whose refused fields were left out.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SinkConfig } from '../../lib/config/index.ts';
import type { SinkLogger } from '../../lib/logger.ts';
import {
  createFetchSend,
  createJsforceSend,
  type Send,
  type SendStreamed,
} from '../../lib/salesforce/http.ts';
import type { BulkJobs, SalesforceClient } from '../../lib/salesforce/types.ts';

/** What the embedded runtime needs to observe its Salesforce client. */
export interface SalesforceObserver {
  /** Wraps the client the handlers use. */
  client(inner: SalesforceClient): SalesforceClient;
  /** The client's transport. */
  send: Send;
  sendStreamed: SendStreamed;
}

export interface ApiMeter extends SalesforceObserver {
  /** The embedded runtime's logger: the client's log says which calls were retries. */
  logger: SinkLogger;
  /**
   * Calls and retries per topic. A call that served two topics (a describe of an sObject both map to)
   * counts for each; calls outside any topic's work are under `''`.
   */
  perTopic(): Map<string, { calls: number; retries: number }>;
  /** Every call counted, once each. */
  total(): { calls: number; retries: number };
}

/** Client log lines that announce a resend: of locked rows, of records without their refused fields. */
const RESEND = /^(Records locked by another transaction|Salesforce refused fields)/;

const isTokenRequest = (url: string) => /\/services\/oauth2\/token(\?|$)/.test(url);

/**
 * A meter for one client: pass it as the embedded runtime's `observer`, then read the counts.
 *
 * @example
 * const meter = createApiMeter(config);
 * const embedded = await startEmbedded({ config, observer: meter });
 * meter.perTopic().get('orders'); // { calls: 3, retries: 0 }
 */
export function createApiMeter(
  config: Pick<SinkConfig, 'mappings'>,
  transport: { send?: Send; sendStreamed?: SendStreamed } = {},
): ApiMeter {
  const context = new AsyncLocalStorage<readonly string[]>();
  const counts = new Map<string, { calls: number; retries: number }>();
  const total = { calls: 0, retries: 0 };
  const jobTopics = new Map<string, readonly string[]>();

  const add = (what: 'calls' | 'retries') => {
    total[what]++;
    for (const topic of context.getStore() ?? ['']) {
      const entry = counts.get(topic) ?? { calls: 0, retries: 0 };
      entry[what]++;
      counts.set(topic, entry);
    }
  };
  const count = (url: string) => {
    if (!isTokenRequest(url)) add('calls');
  };
  const topicsOf = (sobject: string, mode?: 'bulk') =>
    config.mappings
      .filter((m) => m.sobject.toLowerCase() === sobject.toLowerCase() && (!mode || m.mode === mode))
      .map((m) => m.topic);
  const forJob = (jobId: string) => jobTopics.get(jobId) ?? [];

  const send = transport.send ?? createJsforceSend();
  const sendStreamed = transport.sendStreamed ?? createFetchSend();

  function wrapBulk(bulk: BulkJobs): BulkJobs {
    return {
      async create(spec, ctx) {
        const topics = topicsOf(spec.object, 'bulk');
        const info = await context.run(topics, () => bulk.create(spec, ctx));
        jobTopics.set(info.id, topics);
        return info;
      },
      upload: (jobId, csv, ctx) => context.run(forJob(jobId), () => bulk.upload(jobId, csv, ctx)),
      close: (jobId, ctx) => context.run(forJob(jobId), () => bulk.close(jobId, ctx)),
      abort: (jobId, ctx) => context.run(forJob(jobId), () => bulk.abort(jobId, ctx)),
      check: (jobId, ctx) => context.run(forJob(jobId), () => bulk.check(jobId, ctx)),
      // Listing jobs (to find an orphan after a lost create answer) serves no topic in particular.
      list: (ctx) => bulk.list(ctx),
      async *results(jobId, kind, ctx) {
        // Each page of a result file is fetched when the consumer asks for more rows.
        const rows = bulk.results(jobId, kind, ctx)[Symbol.asyncIterator]();
        for (;;) {
          const next = await context.run(forJob(jobId), () => rows.next());
          if (next.done) return;
          yield next.value;
        }
      },
    };
  }

  return {
    logger: {
      debug(message, attributes) {
        const attempt = attributes?.attempt;
        if (message.startsWith('Salesforce call') && typeof attempt === 'number' && attempt > 1)
          add('retries');
      },
      info() {},
      warn(message) {
        if (RESEND.test(message)) add('retries');
      },
      error() {},
    },
    send: (request, timeoutMs) => {
      count(request.url);
      return send(request, timeoutMs);
    },
    sendStreamed: (request, timeoutMs) => {
      count(request.url);
      return sendStreamed(request, timeoutMs);
    },
    client: (inner) => ({
      ...inner,
      schemaOf: (sobject, ctx) => context.run(topicsOf(sobject), () => inner.schemaOf(sobject, ctx)),
      writeUnit: (unit, ctx) =>
        context.run([...new Set(unit.records.map((r) => r.topic))], () => inner.writeUnit(unit, ctx)),
      resolveIds: (sobject, field, values, ctx) =>
        context.run(topicsOf(sobject), () => inner.resolveIds(sobject, field, values, ctx)),
      bulk: wrapBulk(inner.bulk),
    }),
    perTopic: () => new Map([...counts].map(([topic, c]) => [topic, { ...c }])),
    total: () => ({ ...total }),
  };
}
