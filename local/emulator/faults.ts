// Fault injection. A rule says where (route, method, path), when (the nth matching call, how many
// times, with what probability from a seeded RNG, before or after the request takes effect) and what
// (an HTTP error, latency, a reset connection, expired tokens, a locked record, a failed bulk job).
// Rules come from start-up options, POST /__emulator/faults, or the handle, and are validated by
// one zod spec that also documents them.

import { z } from 'zod';
import { seededRandom } from '../random.ts';
import type { RecordError } from './contracts.ts';
import type { RecordFaultContext } from './org.ts';

export const ROUTES = [
  'oauth',
  'identity',
  'versions',
  'describe',
  'sobject',
  'collections',
  'query',
  'limits',
  'bulk',
  'other',
] as const;

export type RouteName = (typeof ROUTES)[number];

const routeSpec = z.union([z.enum(ROUTES), z.literal('*'), z.array(z.enum(ROUTES)).min(1)]);

const common = {
  id: z.string().optional().describe('Assigned when absent; names the rule in listings and removal.'),
  route: routeSpec.default('*').describe("Route name(s) the rule applies to, or '*'."),
  method: z.string().optional().describe('Only requests with this HTTP method.'),
  path: z.string().optional().describe('Only requests whose path matches this regular expression.'),
  nth: z.number().int().min(1).default(1).describe('The first matching call (1-based) that is faulted.'),
  times: z
    .union([z.number().int().min(1), z.literal('always')])
    .optional()
    .describe("How many calls are faulted: default 1, or 'always' when probability is set."),
  probability: z
    .number()
    .min(0)
    .max(1)
    .optional()
    .describe('Chance that an eligible call is faulted (seeded RNG).'),
  when: z
    .enum(['before', 'after'])
    .default('before')
    .describe('before: the request has no effect; after: it takes effect, then the response is replaced.'),
};

const recordMatch = z
  .object({
    sobject: z.string().optional(),
    ids: z.array(z.string()).optional().describe('Record ids (15 or 18 chars).'),
    fields: z.record(z.string(), z.unknown()).optional().describe('Field values the record must have.'),
    operation: z.enum(['insert', 'update', 'upsert', 'delete', 'hardDelete']).optional(),
  })
  .default({});

export const faultRuleSpec = z.discriminatedUnion('fault', [
  z.object({
    ...common,
    fault: z.literal('status'),
    status: z.number().int().min(400).max(599),
    retryAfter: z.number().int().min(0).optional().describe('Retry-After header, in seconds.'),
    body: z.unknown().optional().describe('Response body; a Salesforce-style error array by default.'),
  }),
  z.object({
    ...common,
    fault: z.literal('limit'),
    limit: z.enum(['TotalRequests', 'ConcurrentPerOrgLongTxn']).default('TotalRequests'),
  }),
  z.object({ ...common, fault: z.literal('latency'), ms: z.number().int().min(0) }),
  z.object({ ...common, fault: z.literal('reset') }),
  z.object({ ...common, fault: z.literal('expireTokens') }),
  z.object({
    ...common,
    fault: z.literal('lockRow'),
    match: recordMatch,
  }),
  z.object({
    ...common,
    fault: z.literal('refuseRecord'),
    match: recordMatch,
    code: z
      .string()
      .regex(/^[A-Z_]+$/)
      .describe('The record error code, e.g. INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE.'),
    message: z.string().default('the record was refused').describe('The record error message.'),
  }),
  z.object({
    ...common,
    fault: z.literal('failJob'),
    match: z.object({ object: z.string().optional(), operation: z.string().optional() }).default({}),
    errorMessage: z
      .string()
      .default('InternalServerError : An unexpected error occurred while processing the job'),
    afterRecords: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Records processed (and kept, as on Salesforce) before the job fails; default 0.'),
  }),
]);

/** A rule as written in JSON (defaults optional). */
export type FaultRuleInput = z.input<typeof faultRuleSpec> & {
  /** Only from code: decides per record whether a lockRow or refuseRecord rule applies. */
  predicate?: (record: RecordFaultContext) => boolean;
};
export type FaultRule = z.output<typeof faultRuleSpec> & {
  id: string;
  predicate?: FaultRuleInput['predicate'];
};

/** A bulk job failure: its errorMessage, after how many records. */
export interface JobFault {
  errorMessage: string;
  afterRecords?: number;
}

export interface RuleState {
  rule: FaultRule;
  /** Matching calls (or records, or jobs) seen since the rule was added. */
  seen: number;
  /** How many of them were faulted. */
  fired: number;
}

export interface RequestInfo {
  route: RouteName;
  method: string;
  path: string;
}

/** The faults one request gets, split by phase. */
export interface RequestFaults {
  latencyMs: { before: number; after: number };
  expireTokens: { before: boolean; after: boolean };
  /** At most one per phase: a status, limit or reset replaces the response. */
  terminal: { before?: FaultRule; after?: FaultRule };
}

export interface Faults {
  add(rule: FaultRuleInput): FaultRule;
  /** Replaces every rule. */
  set(rules: FaultRuleInput[]): FaultRule[];
  remove(id: string): boolean;
  clear(): void;
  list(): RuleState[];
  forRequest(request: RequestInfo): RequestFaults;
  /** UNABLE_TO_LOCK_ROW for a record a lockRow rule picks; a refuseRecord rule's error for one it picks. */
  forRecord(context: RecordFaultContext & { route: RouteName }): RecordError | undefined;
  /** How a bulk job a failJob rule picks fails. */
  forJob(job: { id: string; object: string; operation: string }): JobFault | undefined;
  /** Clears the rules and restarts the RNG from its seed. */
  reset(): void;
}

/**
 * Validates fault rules from JSON (a rule or an array of rules); throws with every problem listed.
 *
 * @example
 * parseFaultRules('[{"route":"collections","fault":"status","status":503}]');
 */
export function parseFaultRules(input: unknown): FaultRuleInput[] {
  const value = typeof input === 'string' ? (JSON.parse(input) as unknown) : input;
  const parsed = z.array(faultRuleSpec).safeParse(Array.isArray(value) ? value : [value]);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`Invalid fault rule:\n  ${problems.join('\n  ')}`);
  }
  return parsed.data;
}

const routeMatches = (rule: FaultRule, route: RouteName): boolean =>
  rule.route === '*' || rule.route === route || (Array.isArray(rule.route) && rule.route.includes(route));

const REQUEST_FAULTS = new Set(['status', 'limit', 'latency', 'reset', 'expireTokens']);
const TERMINAL_FAULTS = new Set(['status', 'limit', 'reset']);

/**
 * Creates the fault registry.
 *
 * @example
 * const faults = createFaults({ seed: 42 });
 * faults.add({ route: 'collections', fault: 'status', status: 429, retryAfter: 1, nth: 2 });
 */
export function createFaults(options: { seed: number; rules?: FaultRuleInput[] }): Faults {
  let random = seededRandom(options.seed);
  let states: RuleState[] = [];
  let nextId = 1;

  function add(input: FaultRuleInput): FaultRule {
    const { predicate, ...json } = input;
    const [parsed] = parseFaultRules(json) as Array<z.output<typeof faultRuleSpec>>;
    const rule: FaultRule = { ...parsed!, id: parsed!.id ?? `fault-${nextId++}`, predicate };
    states.push({ rule, seen: 0, fired: 0 });
    return rule;
  }

  /**
   * Counts a matching call (or record, or job) and decides whether this one is faulted. A `blocked`
   * rule (its phase already has a terminal fault) stays due and gets the next matching call.
   */
  function decide(state: RuleState, blocked = false): boolean {
    const { rule } = state;
    state.seen++;
    const times = rule.times ?? (rule.probability === undefined ? 1 : 'always');
    if (state.seen < rule.nth || (times !== 'always' && state.fired >= times) || blocked) return false;
    if (rule.probability !== undefined && random() >= rule.probability) return false;
    state.fired++;
    return true;
  }

  function recordMatches(rule: FaultRule, context: RecordFaultContext): boolean {
    if (rule.fault !== 'lockRow' && rule.fault !== 'refuseRecord') return false;
    const { match } = rule;
    if (match.sobject && match.sobject.toLowerCase() !== context.sobject.toLowerCase()) return false;
    if (match.operation && match.operation !== context.operation) return false;
    if (match.ids && !match.ids.some((id) => context.id?.startsWith(id.slice(0, 15)))) return false;
    for (const [field, value] of Object.entries(match.fields ?? {})) {
      if (context.fields[field] !== value) return false;
    }
    return rule.predicate ? rule.predicate(context) : true;
  }

  const faults: Faults = {
    add,
    set(rules) {
      states = [];
      return rules.map(add);
    },
    remove(id) {
      const before = states.length;
      states = states.filter((s) => s.rule.id !== id);
      return states.length < before;
    },
    clear() {
      states = [];
    },
    list: () => states.map((s) => ({ ...s })),
    forRequest(request) {
      const result: RequestFaults = {
        latencyMs: { before: 0, after: 0 },
        expireTokens: { before: false, after: false },
        terminal: {},
      };
      for (const state of states) {
        const { rule } = state;
        if (!REQUEST_FAULTS.has(rule.fault) || !routeMatches(rule, request.route)) continue;
        if (rule.method && rule.method.toUpperCase() !== request.method) continue;
        if (rule.path && !new RegExp(rule.path).test(request.path)) continue;
        // A phase gets one terminal fault: a later terminal rule that is due waits for the next call.
        if (!decide(state, TERMINAL_FAULTS.has(rule.fault) && result.terminal[rule.when] !== undefined))
          continue;
        if (rule.fault === 'latency') result.latencyMs[rule.when] += rule.ms;
        else if (rule.fault === 'expireTokens') result.expireTokens[rule.when] = true;
        else result.terminal[rule.when] = rule;
      }
      return result;
    },
    forRecord(context) {
      for (const state of states) {
        if (!routeMatches(state.rule, context.route) || !recordMatches(state.rule, context)) continue;
        if (!decide(state)) continue;
        const { rule } = state;
        if (rule.fault === 'refuseRecord')
          return { statusCode: rule.code, message: rule.message, fields: [] };
        const id = context.id ?? '';
        return {
          statusCode: 'UNABLE_TO_LOCK_ROW',
          message: `unable to obtain exclusive access to this record or 1 records: ${id}`,
          fields: [],
        };
      }
      return undefined;
    },
    forJob(job) {
      for (const state of states) {
        const { rule } = state;
        if (rule.fault !== 'failJob' || !routeMatches(rule, 'bulk')) continue;
        if (rule.match.object && rule.match.object.toLowerCase() !== job.object.toLowerCase()) continue;
        if (rule.match.operation && rule.match.operation !== job.operation) continue;
        if (decide(state)) return { errorMessage: rule.errorMessage, afterRecords: rule.afterRecords };
      }
      return undefined;
    },
    reset() {
      states = [];
      nextId = 1;
      random = seededRandom(options.seed);
    },
  };
  for (const rule of options.rules ?? []) add(rule);
  return faults;
}
