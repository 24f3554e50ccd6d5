// The REST API below /services/data/vXX.X (everything but Bulk API 2.0): resources, limits, describe,
// single-record sObject rows, sObject Collections and query. Requests arrive authenticated and counted.

import type {
  Counters,
  EmulatorRequest,
  EmulatorResponse,
  RecordError,
  RecordFields,
  RouteModule,
  SaveResult,
  WriteOperation,
} from './contracts.ts';
import { describeGlobal, describeSObject, sobjectBasicInfo } from './describe.ts';
import { unreadableRecord } from './deserialize.ts';
import type { RouteName } from './faults.ts';
import { keyPrefixOf, normalizeId } from './ids.ts';
import type { EmulatorOrg, StoredRecord, WriteItem } from './org.ts';
import type { SObjectSchema } from './schema.ts';
import { QueryError, runQuery } from './soql.ts';
import { parseExactJson } from './values.ts';

export interface RestOptions {
  org: EmulatorOrg;
  counters: Counters;
  /** Read per call, so tests can change the limits at run time. */
  limits: () => { dailyApiRequests: number; dailyBulkBatches: number };
  /**
   * Runs a synchronous org write under a route name, so per-record faults can tell Collections from
   * single-record calls.
   */
  writeAs: <T>(route: RouteName, write: () => T) => T;
}

/** The most records (or ids) one Collections call takes. */
export const COLLECTIONS_LIMIT = 200;

type Json = Record<string, unknown>;

/** A top-level REST error: `[{"message","errorCode","fields"?}]`. */
export function restError(
  status: number,
  errorCode: string,
  message: string,
  fields?: string[],
): EmulatorResponse {
  return { status, body: [{ message, errorCode, ...(fields ? { fields } : {}) }] };
}

const notFound = (): EmulatorResponse => restError(404, 'NOT_FOUND', 'The requested resource does not exist');

const methodNotAllowed = (method: string, allowed: string): EmulatorResponse =>
  restError(405, 'METHOD_NOT_ALLOWED', `HTTP Method '${method}' not allowed. Allowed are ${allowed}`);

const ok = (body: unknown, status = 200): EmulatorResponse => ({ status, body });

/** A SaveResult as Salesforce serializes it: no `id` key when there is none. */
function saveResultJson(result: SaveResult): Json {
  const { id, success, errors, created } = result;
  return {
    ...(id === null ? {} : { id }),
    success,
    errors,
    ...(created === undefined || !success ? {} : { created }),
  };
}

/** Turns one failed single-record write into the REST error body (errorCode, not statusCode). */
function singleError(result: SaveResult): EmulatorResponse {
  return {
    status: 400,
    body: result.errors.map((e) => ({ message: e.message, errorCode: e.statusCode, fields: e.fields })),
  };
}

function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false; response: EmulatorResponse } {
  try {
    return { ok: true, value: parseExactJson(body.toString('utf8') || 'null') };
  } catch (err) {
    return { ok: false, response: restError(400, 'JSON_PARSER_ERROR', (err as Error).message) };
  }
}

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The 400 Salesforce answers when it cannot read a record of the body into an sObject. */
function unreadable(sobject: SObjectSchema, record: Json): EmulatorResponse | undefined {
  const error = unreadableRecord(sobject, record);
  return error ? restError(400, error.errorCode, error.message) : undefined;
}

function recordJson(record: StoredRecord, fields: Json, apiVersion: string): Json {
  return {
    attributes: {
      type: record.sobject,
      url: `/services/data/v${apiVersion}/sobjects/${record.sobject}/${record.id}`,
    },
    ...fields,
  };
}

/**
 * Creates the REST route module.
 *
 * @example
 * const rest = createRestApi({ org, counters, limits: () => ({ dailyApiRequests: 15000, dailyBulkBatches: 15000 }),
 *   writeAs: (_route, write) => write() });
 * await rest({ method: 'GET', path: '/limits', … });
 */
export function createRestApi(options: RestOptions): RouteModule {
  const { org, counters, writeAs } = options;

  function limitsBody(): Json {
    const { dailyApiRequests, dailyBulkBatches } = options.limits();
    const quota = (max: number, used = 0) => ({ Max: max, Remaining: Math.max(0, max - used) });
    return {
      ConcurrentAsyncGetReportInstances: quota(200),
      ConcurrentSyncReportRuns: quota(20),
      DailyApiRequests: quota(dailyApiRequests, counters.apiCalls),
      DailyAsyncApexExecutions: quota(250000),
      DailyBulkApiBatches: quota(dailyBulkBatches, counters.bulkBatches),
      DailyBulkV2QueryFileStorageMB: quota(976562),
      DailyBulkV2QueryJobs: quota(10000),
      DataStorageMB: quota(5),
      FileStorageMB: quota(20),
      HourlyODataCallout: quota(20000),
      SingleEmail: quota(15),
    };
  }

  function resources(apiVersion: string): Json {
    const base = `/services/data/v${apiVersion}`;
    const names = ['composite', 'jobs', 'limits', 'query', 'queryAll', 'sobjects'];
    return Object.fromEntries(names.map((n) => [n, `${base}/${n}`]));
  }

  function readFields(
    record: StoredRecord,
    sobject: SObjectSchema,
    fieldsParam: string | null,
    apiVersion: string,
  ) {
    const full = org.fullRecord(record);
    if (!fieldsParam) return ok(recordJson(record, full, apiVersion));
    const picked: Json = {};
    for (const name of fieldsParam.split(',').map((f) => f.trim())) {
      const field = sobject.fieldsByName.get(name.toLowerCase());
      if (!field)
        return restError(400, 'INVALID_FIELD', `No such column '${name}' on entity '${sobject.name}'.`);
      picked[field.name] = full[field.name];
    }
    return ok(recordJson(record, picked, apiVersion));
  }

  /** The live record a single-record URL addresses, or the 404 Salesforce answers. */
  function addressed(sobject: SObjectSchema, rawId: string): StoredRecord | EmulatorResponse {
    const id = normalizeId(rawId);
    if (!id) {
      return restError(
        404,
        'NOT_FOUND',
        `Provided external ID field does not exist or is not accessible: ${rawId}`,
      );
    }
    const record = org.get(id);
    if (keyPrefixOf(id) !== sobject.keyPrefix || !record) return notFound();
    if (record.deleted) return restError(404, 'ENTITY_IS_DELETED', 'entity is deleted', []);
    return record;
  }

  function writeOne(route: RouteName, operation: WriteOperation, item: WriteItem, externalIdField?: string) {
    const [result] = writeAs(route, () =>
      org.applyItems(operation, [item], { allOrNone: false, source: 'json', externalIdField }),
    );
    return result!;
  }

  function sobjectRow(req: EmulatorRequest, sobject: SObjectSchema, rawId: string): EmulatorResponse {
    const found = addressed(sobject, rawId);
    if (!('id' in found)) return found;
    switch (req.method) {
      case 'GET':
        return readFields(found, sobject, req.query.get('fields'), req.apiVersion);
      case 'PATCH': {
        const body = parseJson(req.body);
        if (!body.ok) return body.response;
        if (!isObject(body.value))
          return restError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object');
        const refused = unreadable(sobject, body.value);
        if (refused) return refused;
        const result = writeOne('sobject', 'update', {
          sobject: sobject.name,
          fields: { ...body.value, Id: found.id },
        });
        return result.success ? ok(undefined, 204) : singleError(result);
      }
      case 'DELETE': {
        const result = writeOne('sobject', 'delete', { sobject: sobject.name, fields: { Id: found.id } });
        return result.success ? ok(undefined, 204) : singleError(result);
      }
      default:
        return methodNotAllowed(req.method, 'GET,PATCH,DELETE');
    }
  }

  function sobjectByExternalId(
    req: EmulatorRequest,
    sobject: SObjectSchema,
    fieldName: string,
    value: string,
  ): EmulatorResponse {
    const field = sobject.fieldsByName.get(fieldName.toLowerCase());
    if (!field?.idLookup || field.type === 'id') {
      return restError(
        404,
        'NOT_FOUND',
        `Provided external ID field does not exist or is not accessible: ${fieldName}`,
      );
    }
    if (req.method === 'PATCH') {
      const body = parseJson(req.body);
      if (!body.ok) return body.response;
      if (!isObject(body.value))
        return restError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object');
      const refused = unreadable(sobject, body.value);
      if (refused) return refused;
      const fields: RecordFields = { ...body.value, [field.name]: value };
      const result = writeOne('sobject', 'upsert', { sobject: sobject.name, fields }, field.name);
      if (!result.success) return singleError(result);
      if (result.created) return ok(saveResultJson(result), 201);
      return Number(req.apiVersion) >= 46 ? ok(saveResultJson(result)) : ok(undefined, 204);
    }
    const matches = org.findBy(sobject.name, field.name, value);
    if (matches.length > 1) {
      return ok(
        matches.map((m) => `/services/data/v${req.apiVersion}/sobjects/${sobject.name}/${m.id}`),
        300,
      );
    }
    const record = matches[0];
    if (!record) return notFound();
    if (req.method === 'GET') return readFields(record, sobject, req.query.get('fields'), req.apiVersion);
    if (req.method === 'DELETE') {
      const result = writeOne('sobject', 'delete', { sobject: sobject.name, fields: { Id: record.id } });
      return result.success ? ok(undefined, 204) : singleError(result);
    }
    return methodNotAllowed(req.method, 'GET,PATCH,DELETE');
  }

  function sobjects(req: EmulatorRequest, segments: string[]): EmulatorResponse {
    const [name, second, third, ...rest] = segments;
    if (name === undefined) {
      return req.method === 'GET'
        ? ok(describeGlobal(org.schema, req.apiVersion))
        : methodNotAllowed(req.method, 'GET');
    }
    const sobject = org.sobjectSchema(name);
    if (!sobject || rest.length > 0) return notFound();
    if (second === undefined) {
      if (req.method === 'GET') return ok(sobjectBasicInfo(sobject, req.apiVersion));
      if (req.method !== 'POST') return methodNotAllowed(req.method, 'GET,POST');
      const body = parseJson(req.body);
      if (!body.ok) return body.response;
      if (!isObject(body.value))
        return restError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object');
      const refused = unreadable(sobject, body.value);
      if (refused) return refused;
      const result = writeOne('sobject', 'insert', { sobject: sobject.name, fields: body.value });
      return result.success ? ok(saveResultJson(result), 201) : singleError(result);
    }
    if (second === 'describe' && third === undefined) {
      if (req.method !== 'GET') return methodNotAllowed(req.method, 'GET');
      const since = Date.parse(String(req.headers['if-modified-since'] ?? ''));
      const lastModified = org.schema.lastModified;
      if (!Number.isNaN(since) && lastModified.getTime() <= since) return ok(undefined, 304);
      return {
        status: 200,
        headers: { 'Last-Modified': lastModified.toUTCString() },
        body: describeSObject(sobject, req.apiVersion),
      };
    }
    if (third === undefined) return sobjectRow(req, sobject, second);
    return sobjectByExternalId(req, sobject, second, third);
  }

  /** Parses a Collections body: `{ allOrNone, records: [{ attributes: { type }, … }] }`. */
  function collectionBody(
    req: EmulatorRequest,
  ): { allOrNone: boolean; records: unknown[] } | EmulatorResponse {
    const body = parseJson(req.body);
    if (!body.ok) return body.response;
    if (!isObject(body.value) || !Array.isArray(body.value.records)) {
      return restError(400, 'JSON_PARSER_ERROR', 'The request body must be an object with a records array');
    }
    if (body.value.records.length > COLLECTIONS_LIMIT) return tooMany();
    return { allOrNone: body.value.allOrNone === true, records: body.value.records };
  }

  const tooMany = (): EmulatorResponse =>
    restError(
      400,
      'EXCEEDED_ID_LIMIT',
      'record limit reached. cannot submit more than 200 records into this call',
    );

  /** One Collections record as a write item; a record without `attributes.type` fails on its own. */
  function collectionItem(record: unknown, only?: SObjectSchema): WriteItem {
    if (!isObject(record)) {
      return { sobject: undefined, fields: {}, error: invalidType('Must send a concrete entity type.') };
    }
    const type = isObject(record.attributes) ? record.attributes.type : undefined;
    if (typeof type !== 'string' || type === '') {
      return { sobject: only?.name, fields: record, error: invalidType('Must send a concrete entity type.') };
    }
    if (only && type.toLowerCase() !== only.name.toLowerCase()) {
      return {
        sobject: only.name,
        fields: record,
        error: invalidType(`Records must be of the type named in the request URI: ${only.name}`),
      };
    }
    return { sobject: type, fields: record };
  }

  const invalidType = (message: string): RecordError => ({ statusCode: 'INVALID_TYPE', message, fields: [] });

  /**
   * What Salesforce refuses before any DML, failing the whole call: a record it cannot read into an
   * sObject, or one record Id named twice (15 and 18 characters alike).
   */
  function refusedWhole(operation: WriteOperation, items: WriteItem[]): EmulatorResponse | undefined {
    if (operation !== 'delete') {
      for (const item of items) {
        const sobject = item.error || !item.sobject ? undefined : org.sobjectSchema(item.sobject);
        const refused = sobject ? unreadable(sobject, item.fields) : undefined;
        if (refused) return refused;
      }
    }
    if (operation !== 'update' && operation !== 'delete') return undefined;
    const seen = new Set<string>();
    for (const item of items) {
      const key = Object.keys(item.fields).find((k) => k.toLowerCase() === 'id');
      const id = key === undefined ? undefined : normalizeId(item.fields[key]);
      if (id === undefined) continue;
      if (seen.has(id)) return restError(400, 'DUPLICATE_VALUE', `Duplicate id in list: ${id}`);
      seen.add(id);
    }
    return undefined;
  }

  function collectionWrite(
    operation: WriteOperation,
    items: WriteItem[],
    allOrNone: boolean,
    externalIdField?: string,
  ) {
    const refused = refusedWhole(operation, items);
    if (refused) return refused;
    const results = writeAs('collections', () =>
      org.applyItems(operation, items, { allOrNone, source: 'json', externalIdField }),
    );
    return ok(results.map(saveResultJson));
  }

  function collections(req: EmulatorRequest, segments: string[]): EmulatorResponse {
    const [name, field, ...rest] = segments;
    if (rest.length > 0) return notFound();
    if (name === undefined) {
      if (req.method === 'DELETE') {
        const ids = (req.query.get('ids') ?? '').split(',').filter((id) => id !== '');
        if (ids.length === 0) return restError(400, 'MISSING_ARGUMENT', 'ids parameter is required');
        if (ids.length > COLLECTIONS_LIMIT) return tooMany();
        const items = ids.map((Id): WriteItem => ({ sobject: undefined, fields: { Id } }));
        return collectionWrite('delete', items, req.query.get('allOrNone') === 'true');
      }
      if (req.method !== 'POST' && req.method !== 'PATCH')
        return methodNotAllowed(req.method, 'POST,PATCH,DELETE');
      const body = collectionBody(req);
      if (!('records' in body)) return body;
      const items = body.records.map((r) => collectionItem(r));
      return collectionWrite(req.method === 'POST' ? 'insert' : 'update', items, body.allOrNone);
    }
    const sobject = org.sobjectSchema(name);
    if (!sobject) return notFound();
    if (field === undefined) {
      if (req.method !== 'POST') return methodNotAllowed(req.method, 'POST');
      return retrieveMany(req, sobject);
    }
    if (req.method !== 'PATCH') return methodNotAllowed(req.method, 'PATCH');
    const externalId = sobject.fieldsByName.get(field.toLowerCase());
    if (!externalId?.idLookup) {
      return restError(
        400,
        'INVALID_FIELD',
        `Field name provided, ${field} is not an External ID or indexed field for ${sobject.name}`,
      );
    }
    const body = collectionBody(req);
    if (!('records' in body)) return body;
    const items = body.records.map((r) => collectionItem(r, sobject));
    return collectionWrite('upsert', items, body.allOrNone, externalId.name);
  }

  /** `POST /composite/sobjects/{name}` with `{ids, fields}`: the records, null where an id matches none. */
  function retrieveMany(req: EmulatorRequest, sobject: SObjectSchema): EmulatorResponse {
    const body = parseJson(req.body);
    if (!body.ok) return body.response;
    const { ids, fields } = isObject(body.value) ? body.value : {};
    if (!Array.isArray(ids) || !Array.isArray(fields)) {
      return restError(400, 'JSON_PARSER_ERROR', 'The request body must have ids and fields arrays');
    }
    if (ids.length > 2000) return restError(400, 'EXCEEDED_ID_LIMIT', 'too many ids: at most 2000 per call');
    const records = [];
    for (const rawId of ids) {
      const record = org.get(String(rawId));
      if (!record || record.deleted || record.sobject !== sobject.name) {
        records.push(null);
        continue;
      }
      const response = readFields(record, sobject, fields.join(','), req.apiVersion);
      if (response.status !== 200) return response;
      records.push(response.body);
    }
    return ok(records);
  }

  function query(req: EmulatorRequest, includeDeleted: boolean): EmulatorResponse {
    if (req.method !== 'GET') return methodNotAllowed(req.method, 'GET');
    const soql = req.query.get('q');
    if (!soql) return restError(400, 'MALFORMED_QUERY', 'The q parameter is required');
    try {
      return ok(runQuery(org, soql, { apiVersion: req.apiVersion, includeDeleted }));
    } catch (err) {
      if (err instanceof QueryError) return restError(400, err.errorCode, err.message);
      throw err;
    }
  }

  return async (req) => {
    const segments = req.path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
    const [head, ...rest] = segments;
    switch (head) {
      case undefined:
        return req.method === 'GET' ? ok(resources(req.apiVersion)) : methodNotAllowed(req.method, 'GET');
      case 'limits':
        return req.method === 'GET' && rest.length === 0
          ? ok(limitsBody())
          : methodNotAllowed(req.method, 'GET');
      case 'sobjects':
        return sobjects(req, rest);
      case 'composite':
        return rest[0] === 'sobjects' ? collections(req, rest.slice(1)) : notFound();
      case 'query':
      case 'queryAll':
        return rest.length === 0 ? query(req, head === 'queryAll') : notFound();
      default:
        return undefined;
    }
  };
}
