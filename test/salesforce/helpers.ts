// Helpers for the Salesforce client's integration tests: an emulator, a client wired to it with an
// isolated cache and a recording sleep (backoff waits are asserted, not waited), and write units built
// through the real pipeline stages (resolve → shape → plan).
import { parseConfig } from '../../lib/config/index.ts';
import { planWrites, type WriteUnit } from '../../lib/plan/plan.ts';
import type { DecodedRecord, JsonObject } from '../../lib/records.ts';
import { isRejection } from '../../lib/records.ts';
import { indexMappings, resolveRecord } from '../../lib/resolve/resolve.ts';
import {
  createClientCache,
  createSalesforceClient,
  type SalesforceClientOptions,
  type SalesforceLogger,
} from '../../lib/salesforce/index.ts';
import type { SalesforceClient, SalesforceCredentials } from '../../lib/salesforce/types.ts';
import { type ShapedRecord, shapeRecord } from '../../lib/shape/shape.ts';
import type { SObjectSchema } from '../../lib/shape/sobject-schema.ts';
import { type Emulator, type EmulatorOptions, startEmulator } from '../../local/emulator/server.ts';

export const CONFIG = { apiVersion: '65.0', requestTimeout: 5_000, maxRetries: 5, maxInFlight: 4 };

/** Starts an emulator with fast bulk processing. */
export function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator({ bulkProcessingDelayMs: 5, ...options });
}

export function clientCredentials(
  emulator: Emulator,
): Extract<SalesforceCredentials, { authType: 'client_credentials' }> {
  return {
    authType: 'client_credentials',
    loginUrl: emulator.url,
    clientId: emulator.credentials.clientId,
    clientSecret: emulator.credentials.clientSecret,
  };
}

export interface TestClient {
  client: SalesforceClient;
  /** Every wait the client asked for, in ms. */
  sleeps: number[];
  /** How far the fake clock moved: the sum of the sleeps. */
  slept(): number;
}

/**
 * A client against the emulator whose sleeps return at once and advance its clock instead, so
 * backoff is asserted, not waited.
 */
export function testClient(emu: Emulator, overrides: Partial<SalesforceClientOptions> = {}): TestClient {
  const sleeps: number[] = [];
  let advanced = 0;
  const client = createSalesforceClient({
    credentials: clientCredentials(emu),
    config: CONFIG,
    cache: createClientCache(),
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
      advanced += ms;
    },
    now: () => Date.now() + advanced,
    ...overrides,
  });
  return { client, sleeps, slept: () => advanced };
}

/** A logger that keeps every line it is given (message and attributes as JSON). */
export function capturingLogger(): SalesforceLogger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string, attributes?: Record<string, unknown>) => {
    lines.push(`${level} ${message} ${attributes === undefined ? '' : JSON.stringify(attributes)}`);
  };
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export const deadlineIn = (ms = 60_000) => ({ deadline: Date.now() + ms });

let offset = 0;

/**
 * Shapes record values for a mapping (through resolve and shape) and plans them into units.
 *
 * @example
 * const [unit] = units([{ LastName: 'Doe', Company: 'Acme' }], { sobject: 'Lead', operation: 'insert' });
 */
export function units(
  values: JsonObject[],
  mapping: Record<string, unknown> & { sobject: string },
  schema?: SObjectSchema,
): WriteUnit[] {
  return planWrites(shaped(values, mapping, schema), { bulkUnitSize: 10_000 }).stages.flat();
}

/** The shaped records for values under one mapping (eventType override: the mapping's operation). */
export function shaped(
  values: JsonObject[],
  mapping: Record<string, unknown> & { sobject: string },
  schema?: SObjectSchema,
): ShapedRecord[] {
  const config = parseConfig({
    mappings: [{ topic: 't', eventType: 'override', unknownFields: 'ignore', ...mapping }],
  });
  const index = indexMappings(config);
  return values.map((value) => {
    const decoded: DecodedRecord = {
      topic: 't',
      partition: 0,
      offset: offset++,
      timestamp: 0,
      key: null,
      headers: [],
      value,
    };
    const resolved = resolveRecord(decoded, index);
    if (isRejection(resolved)) throw new Error(`rejected: ${resolved.message}`);
    const result = shapeRecord(resolved, schema);
    if (isRejection(result)) throw new Error(`rejected: ${result.message}`);
    return result;
  });
}

/** The emulator's API calls of one route (e.g. 'oauth', 'collections', 'query', 'bulk'). */
export function callsOf(emu: Emulator, route: string) {
  return emu.calls().filter((c) => c.route === route);
}
