// The sink's configuration: one zod schema that validates it, types it and documents it (the README's
// configuration table is generated from these descriptions by `npm run docs:config`).
import { z } from 'zod';

/** Salesforce API names: a letter, then letters, digits and underscores (custom: `Foo__c`). */
export const API_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

const apiName = (what: string) =>
  z
    .string()
    .regex(API_NAME, {
      error: `is not a Salesforce API name: use the ${what}'s API name (letters, digits and underscores, starting with a letter, e.g. Lead or Order_Event__c)`,
    })
    .refine((s) => !s.includes('___') && !s.endsWith('_') && (!s.includes('__') || /__[a-z]+$/.test(s)), {
      error: `is not a Salesforce API name: a ${what} name has no trailing or repeated underscores except a suffix such as __c`,
    });

/** Durations: milliseconds as a number, or a string such as `500ms`, `30s`, `5m`. */
const duration = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(/^\d+(ms|s|m|h)$/, {
      error: 'is not a duration: write e.g. 500ms, 30s or 5m, or a number of milliseconds',
    }),
  ])
  .transform((v) => {
    if (typeof v === 'number') return v;
    const match = /^(\d+)(ms|s|m|h)$/.exec(v)!;
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
    return Number(match[1]) * unit;
  });

export const OPERATIONS = ['insert', 'update', 'upsert', 'delete', 'hardDelete'] as const;
export type Operation = (typeof OPERATIONS)[number];

const mappingSchema = z
  .strictObject({
    topic: z.string().min(1, { error: 'is empty: name the Kafka topic this mapping reads' }).meta({
      description: 'Kafka topic whose records this mapping writes.',
    }),
    sobject: apiName('sObject').meta({
      description: 'Salesforce sObject API name, e.g. `Lead`, `Order_Event__c`.',
    }),
    operation: z
      .enum(OPERATIONS, { error: `must be one of ${OPERATIONS.join(', ')}` })
      .optional()
      .meta({
        description:
          'Write operation. With `eventType: honour` it is used only for records without `_EventType`. Default: `upsert` when `externalIdField` is set, else `insert`. `hardDelete` is bulk only.',
      }),
    externalIdField: apiName('field').optional().meta({
      description:
        'External id field that addresses records in the target org. Required for upsert; for update and delete it addresses records across orgs (the source `Id` is ignored).',
    }),
    mode: z
      .enum(['realtime', 'bulk'], { error: 'must be realtime (sObject Collections) or bulk (Bulk API 2.0)' })
      .default('realtime')
      .meta({
        description:
          '`realtime`: sObject Collections (≤200 records a call). `bulk`: Bulk API 2.0 ingest jobs.',
      }),
    allOrNone: z.boolean().default(false).meta({
      description: 'Realtime only: roll back a whole Collections call when any record in it fails.',
    }),
    eventType: z
      .enum(['honour', 'override'], {
        error: 'must be honour (use _EventType) or override (always use operation)',
      })
      .default('honour')
      .meta({
        description:
          '`honour`: `_EventType` picks the operation (created→insert, updated→update, deleted→delete, undeleted→insert; created/updated/undeleted→upsert when `externalIdField` is set). `override`: every record uses `operation`.',
      }),
    unknownFields: z
      .enum(['reject', 'ignore'], { error: 'must be reject or ignore' })
      .default('reject')
      .meta({
        description:
          "What to do with a field the target sObject's describe does not list: `reject` the record (outcome `UNKNOWN_FIELD`), or `ignore` the field (e.g. source-org custom fields the target lacks).",
      }),
    ignoreFields: z
      .array(apiName('field'))
      .default([])
      .meta({ description: 'Fields never written, e.g. formula copies or fields the target org lacks.' }),
  })
  .superRefine((m, ctx) => {
    const operation = m.operation ?? (m.externalIdField ? 'upsert' : 'insert');
    if (operation === 'upsert' && !m.externalIdField) {
      ctx.addIssue({
        code: 'custom',
        path: ['externalIdField'],
        message:
          'is required for upsert: set it to the external id field that identifies records (e.g. CustomId__c)',
      });
    }
    if (operation === 'hardDelete' && m.mode !== 'bulk') {
      ctx.addIssue({
        code: 'custom',
        path: ['operation'],
        message: 'hardDelete exists only in the Bulk API: set mode to bulk, or use delete',
      });
    }
    if (m.allOrNone && m.mode === 'bulk') {
      ctx.addIssue({
        code: 'custom',
        path: ['allOrNone'],
        message: 'applies to realtime mappings only: remove it, or set mode to realtime',
      });
    }
    if (m.externalIdField && m.ignoreFields.includes(m.externalIdField)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ignoreFields'],
        message: `lists the external id field ${m.externalIdField}, which addresses the records: remove it from ignoreFields`,
      });
    }
  })
  .transform((m) => ({ ...m, operation: m.operation ?? (m.externalIdField ? 'upsert' : 'insert') }) as const);

const sqsDestination = z.strictObject({
  resultQueueUrl: z
    .url({ error: 'is not a URL: use the queue URL, https://sqs.<region>.amazonaws.com/<account>/<name>' })
    .optional()
    .meta({ description: 'SQS queue for `succeeded` outcomes. Omit to not publish successes to SQS.' }),
  errorQueueUrl: z
    .url({ error: 'is not a URL: use the queue URL, https://sqs.<region>.amazonaws.com/<account>/<name>' })
    .optional()
    .meta({ description: 'SQS queue for `failed` and `rejected` outcomes.' }),
});

const kafkaDestination = z.strictObject({
  brokers: z
    .array(z.string().regex(/^[^\s:]+:\d+$/, { error: 'is not host:port' }))
    .min(1, { error: 'is empty: list the bootstrap brokers as host:port' })
    .meta({ description: 'Bootstrap brokers (host:port) of the cluster that receives outcomes.' }),
  resultTopic: z.string().min(1).optional().meta({ description: 'Topic for `succeeded` outcomes.' }),
  errorTopic: z
    .string()
    .min(1)
    .optional()
    .meta({ description: 'Topic for `failed` and `rejected` outcomes.' }),
  auth: z.enum(['none', 'iam'], { error: 'must be none or iam (MSK IAM)' }).default('iam').meta({
    description: "`iam`: MSK IAM over TLS with the function's role. `none`: plaintext (local only).",
  }),
  region: z
    .string()
    .optional()
    .meta({ description: "AWS region for MSK IAM signing. Default: the function's region." }),
  maxRequestBytes: z
    .number()
    .int()
    .min(10_000, { error: 'is too small: produce requests need room for an outcome (≥ 10000 bytes)' })
    .default(1_000_000)
    .meta({
      description:
        "Largest produce request sent with outcomes (bytes, Kafka's framing included); publishes are split under it and no outcome record exceeds it (long messages are shortened, keys over 16 KiB replaced by their digest). Keep it below the brokers' `message.max.bytes` (about 1 MB by default, MSK too).",
    }),
});

export const configSchema = z
  .strictObject({
    apiVersion: z
      .string()
      .regex(/^v?\d{2,3}\.0$/, { error: 'is not a Salesforce API version: write e.g. 65.0 or v65.0' })
      .default('65.0')
      .transform((v) => v.replace(/^v/, ''))
      .meta({ description: 'Salesforce REST API version (Collections upsert needs ≥ 46.0).' }),
    requestTimeout: duration
      .prefault('30s')
      .meta({ default: '30s', description: 'Timeout of one HTTP request to Salesforce.' }),
    maxRetries: z.number().int().min(0).max(20).default(5).meta({
      description:
        'Retries of a retryable Salesforce failure (429, 5xx, lock contention, resets) within an invocation; also how many follow-up jobs may resubmit bulk rows that failed for a passing reason.',
    }),
    maxRedeliveries: z.number().int().min(0).max(1000).default(10).meta({
      description:
        'Times a record that keeps failing retryably (after `maxRetries` each time) is handed back to Kafka before it fails with its last error.',
    }),
    apiUsageThreshold: z.number().min(1).max(100).default(90).meta({
      description:
        "Percent of the org's daily API allowance past which realtime writes slow down (a pause of 1–10 s before each call, longer near the limit) and a warning is logged; 100 turns it off.",
    }),
    proxyUrl: z
      .string()
      .regex(/^https?:\/\/[^\s/]+(:\d+)?\/?$/, {
        error: 'is not a proxy URL: write http://host:port (or http://user:password@host:port)',
      })
      .optional()
      .meta({
        description:
          'HTTP(S) proxy for every Salesforce call (token requests, REST, Bulk uploads and result downloads), e.g. `http://proxy.internal:3128`. Default: `HTTPS_PROXY`/`HTTP_PROXY` from the environment; `NO_PROXY` exempts hosts either way. Credentials in the URL are never logged.',
      }),
    maxInFlight: z.number().int().min(1).max(25).default(4).meta({
      description:
        'Collections calls in flight at once (per invocation); Salesforce allows 25 concurrent long requests per org.',
    }),
    bulk: z
      .strictObject({
        batchSize: z.number().int().min(1).max(150_000_000).default(10_000).meta({
          description:
            'Records per Bulk API 2.0 job at most. Salesforce counts one batch per 10,000 records of a job, so smaller jobs spend more of the 15,000 daily batches.',
        }),
        maxConcurrentJobs: z.number().int().min(1).max(100).default(10).meta({
          description:
            'Open bulk jobs at once across all invocations; further units wait (their partition is retried later).',
        }),
        pollInterval: duration.prefault('5s').meta({
          default: '5s',
          description: 'First wait before checking a bulk job; doubles up to `maxPollInterval`.',
        }),
        maxPollInterval: duration
          .pipe(
            z.number().min(5_000, {
              error:
                'is shorter than 5s: every check of a bulk job is an API call (a two-hour job checked every second costs 7,200); set it to 5s or more',
            }),
          )
          .prefault('60s')
          .meta({
            default: '60s',
            description:
              'Longest wait between two checks of a bulk job; at least `5s` (each check is an API call). A job is followed until it ends or Salesforce deletes it (7 days).',
          }),
      })
      .prefault({})
      .meta({ description: 'Bulk API 2.0 settings.' }),
    results: z
      .strictObject({
        sqs: sqsDestination.optional().meta({ description: 'Outcomes to SQS queues.' }),
        kafka: kafkaDestination
          .optional()
          .meta({ description: 'Outcomes to Kafka topics (like Connect Reporter).' }),
      })
      .prefault({})
      .meta({ description: 'Where outcomes go. Either destination may be omitted.' }),
    mappings: z
      .array(mappingSchema)
      .min(1, { error: 'is empty: add one mapping per Kafka topic ({ topic, sobject, ... })' })
      .meta({ description: 'One entry per Kafka topic.' }),
  })
  .superRefine((c, ctx) => {
    const seen = new Map<string, number>();
    c.mappings.forEach((m, i) => {
      const first = seen.get(m.topic);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['mappings', i, 'topic'],
          message: `repeats topic "${m.topic}" of mappings[${first}]: each topic has exactly one mapping`,
        });
      } else seen.set(m.topic, i);
    });
    if (c.bulk.maxPollInterval < c.bulk.pollInterval) {
      ctx.addIssue({
        code: 'custom',
        path: ['bulk', 'maxPollInterval'],
        message: 'is shorter than bulk.pollInterval: make it at least as long',
      });
    }
  });

/** The configuration as written by the user (before defaults). */
export type SinkConfigInput = z.input<typeof configSchema>;
/** The validated configuration with defaults applied. */
export type SinkConfig = z.output<typeof configSchema>;
export type TopicMapping = SinkConfig['mappings'][number];
export type Mode = TopicMapping['mode'];
