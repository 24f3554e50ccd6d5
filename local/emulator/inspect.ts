// The inspection API under /__emulator/: not authenticated, not counted, never faulted. Lets tests and
// people see records, calls and counters, and change faults and limits while the emulator runs.

import type { Counters, EmulatorResponse } from './contracts.ts';
import { type FaultRule, type Faults, parseFaultRules, type RuleState } from './faults.ts';
import type { EmulatorOrg } from './org.ts';

export interface CallLogEntry {
  method: string;
  /** Path and query string. */
  path: string;
  route: string;
  /** 0 when the connection was reset instead of answered. */
  status: number;
  /** ISO timestamp of the request's arrival. */
  timestamp: string;
  durationMs: number;
  /** Id of the fault rule that replaced the response, if one did. */
  fault?: string;
}

/** Limits and behaviour that can change while the emulator runs. */
export interface RuntimeConfig {
  dailyApiMax: number;
  dailyBulkBatchMax: number;
  latencyMs: number;
  tokenTtlSeconds: number;
}

export interface InspectionDeps {
  org: EmulatorOrg;
  counters: Counters;
  faults: Faults;
  config: RuntimeConfig;
  calls(): CallLogEntry[];
  jobs(): unknown[];
  reset(): void;
  expireTokens(): void;
  saveSnapshot(path?: string): string;
  /** Shown at GET /__emulator/: url, credentials, where the JWT key is. */
  info(): Record<string, unknown>;
}

export interface InspectionRequest {
  method: string;
  /** Path below /__emulator, e.g. `/records/Lead`. */
  path: string;
  query: URLSearchParams;
  body: Buffer;
}

const json = (status: number, body: unknown): EmulatorResponse => ({ status, body });
const problem = (status: number, message: string): EmulatorResponse => json(status, { error: message });

const ruleJson = (rule: FaultRule): Record<string, unknown> => {
  const { predicate, ...rest } = rule;
  return predicate ? { ...rest, predicate: '(function)' } : rest;
};
const stateJson = (state: RuleState) => ({
  rule: ruleJson(state.rule),
  seen: state.seen,
  fired: state.fired,
});

function parseBody(body: Buffer): unknown {
  const text = body.toString('utf8').trim();
  return text === '' ? undefined : JSON.parse(text);
}

/**
 * Creates the /__emulator/ request handler.
 *
 * @example
 * const inspect = createInspectionApi(deps);
 * await inspect({ method: 'GET', path: '/records/Lead', query: new URLSearchParams(), body: Buffer.alloc(0) });
 */
export function createInspectionApi(deps: InspectionDeps): (request: InspectionRequest) => EmulatorResponse {
  const { org, counters, faults, config } = deps;

  function records(
    method: string,
    sobject: string | undefined,
    id: string | undefined,
    query: URLSearchParams,
  ) {
    if (method !== 'GET') return problem(405, 'Use GET');
    if (sobject === undefined) {
      return json(
        200,
        Object.fromEntries(
          org.schema.sobjects.map((s) => [s.name, org.list(s.name, { includeDeleted: true }).length]),
        ),
      );
    }
    if (!org.hasSObject(sobject)) return problem(404, `Unknown sObject ${sobject}`);
    if (id !== undefined) {
      const record = org.get(id);
      return record ? json(200, org.fullRecord(record)) : problem(404, `No record ${id}`);
    }
    const includeDeleted = query.get('includeDeleted') === 'true';
    const list = org.list(sobject, { includeDeleted }).map((r) => org.fullRecord(r));
    return json(200, { sobject: org.sobjectSchema(sobject)!.name, totalSize: list.length, records: list });
  }

  function faultRoutes(method: string, id: string | undefined, body: Buffer): EmulatorResponse {
    try {
      if (method === 'GET') return json(200, faults.list().map(stateJson));
      if (method === 'DELETE') {
        if (id === undefined) {
          faults.clear();
          return json(204, undefined);
        }
        return faults.remove(id) ? json(204, undefined) : problem(404, `No fault rule ${id}`);
      }
      if (method === 'POST' || method === 'PUT') {
        const rules = parseFaultRules(parseBody(body));
        const added = method === 'PUT' ? faults.set(rules) : rules.map((r) => faults.add(r));
        return json(201, added.map(ruleJson));
      }
      return problem(405, 'Use GET, POST, PUT or DELETE');
    } catch (err) {
      return problem(400, (err as Error).message);
    }
  }

  function configRoute(method: string, body: Buffer): EmulatorResponse {
    if (method === 'PATCH') {
      let changes: unknown;
      try {
        changes = parseBody(body);
      } catch (err) {
        return problem(400, (err as Error).message);
      }
      for (const [key, value] of Object.entries((changes ?? {}) as Record<string, unknown>)) {
        if (!(key in config))
          return problem(400, `Unknown setting ${key}; settable: ${Object.keys(config).join(', ')}`);
        if (typeof value !== 'number' || value < 0)
          return problem(400, `${key} must be a non-negative number`);
      }
      Object.assign(config, changes);
    } else if (method !== 'GET') {
      return problem(405, 'Use GET or PATCH');
    }
    return json(200, config);
  }

  return (request) => {
    const [head, first, second] = request.path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
    const { method } = request;
    switch (head) {
      case undefined:
        return json(200, deps.info());
      case 'records':
        return records(method, first, second, request.query);
      case 'calls':
        return method === 'GET' ? json(200, deps.calls()) : problem(405, 'Use GET');
      case 'counters':
        return method === 'GET'
          ? json(200, {
              ...counters,
              dailyApiMax: config.dailyApiMax,
              dailyBulkBatchMax: config.dailyBulkBatchMax,
            })
          : problem(405, 'Use GET');
      case 'jobs':
        return method === 'GET' ? json(200, deps.jobs()) : problem(405, 'Use GET');
      case 'faults':
        return faultRoutes(method, first, request.body);
      case 'config':
        return configRoute(method, request.body);
      case 'reset':
        if (method !== 'POST') return problem(405, 'Use POST');
        deps.reset();
        return json(204, undefined);
      case 'tokens':
        if (method !== 'POST' || first !== 'expire')
          return problem(404, 'Use POST /__emulator/tokens/expire');
        deps.expireTokens();
        return json(204, undefined);
      case 'snapshot': {
        if (method !== 'POST') return problem(405, 'Use POST');
        try {
          const path = (parseBody(request.body) as { path?: string } | undefined)?.path;
          return json(200, { path: deps.saveSnapshot(path) });
        } catch (err) {
          return problem(400, (err as Error).message);
        }
      }
      default:
        return problem(404, `No such inspection resource: ${request.path}`);
    }
  };
}
