import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type BulkIngestDeps, createBulkIngest, type JobInfo, type OrgSchemaView } from './bulk.ts';
import type {
  ApplyOptions,
  Counters,
  EmulatorRequest,
  EmulatorResponse,
  Org,
  RecordFields,
  SaveResult,
  WriteOperation,
} from './contracts.ts';

// --- a small in-memory org: just enough schema and per-record semantics for engine-level tests ---

interface FakeOrg extends Org, Partial<OrgSchemaView> {
  calls: { operation: WriteOperation; sobject: string; records: RecordFields[]; options: ApplyOptions }[];
  records: Map<string, RecordFields>;
}

const SCHEMA: Record<
  string,
  { fields: string[]; idLookups: string[]; lookups: string[]; required: string[] }
> = {
  Contact: {
    fields: ['Id', 'FirstName', 'LastName', 'Email', 'Phone', 'External_Id__c', 'AccountId', 'Partner__c'],
    idLookups: ['Id', 'External_Id__c'],
    lookups: ['AccountId', 'Partner__c'],
    required: ['LastName'],
  },
  Account: {
    fields: ['Id', 'Name', 'External_Id__c'],
    idLookups: ['Id', 'External_Id__c'],
    lookups: [],
    required: ['Name'],
  },
};

function sobjectSchema(sobject: string) {
  const spec = SCHEMA[sobject];
  if (!spec) return undefined;
  const relationshipName = (field: string) =>
    field.endsWith('__c') ? `${field.slice(0, -3)}__r` : field.slice(0, -2);
  return {
    name: sobject,
    fieldsByName: new Map(
      spec.fields.map((name) => [name.toLowerCase(), { name, idLookup: spec.idLookups.includes(name) }]),
    ),
    relationships: new Map(
      spec.lookups.map((name) => [
        relationshipName(name).toLowerCase(),
        { name, relationshipName: relationshipName(name) },
      ]),
    ),
  };
}

function fakeOrg(): FakeOrg {
  const records = new Map<string, RecordFields>();
  const calls: FakeOrg['calls'] = [];
  let nextId = 1;
  const newId = (sobject: string) =>
    `${sobject === 'Account' ? '001' : '003'}Hz${String(nextId++).padStart(10, '0')}AAA`;
  const missing = (fields: string[]): SaveResult => ({
    id: null,
    success: false,
    errors: [
      {
        statusCode: 'REQUIRED_FIELD_MISSING',
        message: `Required fields are missing: [${fields.join(', ')}]`,
        fields,
      },
    ],
  });
  const notFound = (id: unknown): SaveResult => ({
    id: null,
    success: false,
    errors: [{ statusCode: 'ENTITY_IS_DELETED', message: `entity is deleted: ${String(id)}`, fields: [] }],
  });
  const write = (target: RecordFields, fields: RecordFields) => {
    for (const [name, value] of Object.entries(fields)) {
      if (value === null) delete target[name];
      else target[name] = value;
    }
  };
  return {
    calls,
    records,
    hasSObject: (sobject) => sobject in SCHEMA,
    fieldNames: (sobject) => SCHEMA[sobject]?.fields,
    sobjectSchema,
    apply(operation, sobject, input, options) {
      calls.push({ operation, sobject, records: input, options });
      const required = SCHEMA[sobject]?.required ?? [];
      return input.map((fields): SaveResult => {
        if (operation === 'insert') {
          const absent = required.filter((name) => fields[name] === undefined || fields[name] === null);
          if (absent.length > 0) return missing(absent);
          const id = newId(sobject);
          records.set(id, { ...fields, Id: id });
          return { id, success: true, errors: [] };
        }
        if (operation === 'upsert') {
          const key = options.externalIdField ?? 'Id';
          const existing = [...records.values()].find((record) => record[key] === fields[key]);
          if (existing) {
            write(existing, fields);
            return { id: String(existing.Id), success: true, errors: [], created: false };
          }
          const id = newId(sobject);
          records.set(id, { ...fields, Id: id });
          return { id, success: true, errors: [], created: true };
        }
        const existing = records.get(String(fields.Id));
        if (!existing) return notFound(fields.Id);
        if (operation === 'update') write(existing, fields);
        else records.delete(String(fields.Id));
        return { id: String(fields.Id), success: true, errors: [] };
      });
    },
  };
}

// --- harness ----------------------------------------------------------------------------------

function harness(overrides: Partial<BulkIngestDeps> = {}) {
  const org = fakeOrg();
  const counters: Counters = { apiCalls: 0, bulkBatches: 0 };
  let clock = Date.parse('2025-06-01T12:00:00.000Z');
  const bulk = createBulkIngest({
    org,
    counters,
    processingDelayMs: 100,
    now: () => new Date(clock),
    ...overrides,
  });
  const send = (
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; query?: string } = {},
  ): Promise<EmulatorResponse | undefined> => {
    const { body } = options;
    const request: EmulatorRequest = {
      method,
      path,
      query: new URLSearchParams(options.query ?? ''),
      headers: options.headers ?? {},
      body: Buffer.from(
        body === undefined
          ? ''
          : typeof body === 'string' || Buffer.isBuffer(body)
            ? body
            : JSON.stringify(body),
      ),
      apiVersion: '65.0',
      baseUrl: 'http://127.0.0.1:1',
    };
    return bulk(request);
  };
  const must = async (...args: Parameters<typeof send>): Promise<EmulatorResponse> => {
    const response = await send(...args);
    if (!response) throw new Error(`${args[0]} ${args[1]} was not answered`);
    return response;
  };
  const create = async (body: Record<string, unknown> = { object: 'Contact', operation: 'insert' }) => {
    const response = await must('POST', '/jobs/ingest', { body });
    expect(response.status).toBe(200);
    return response.body as JobInfo;
  };
  const upload = (id: string, csv: string | Buffer, contentType = 'text/csv') =>
    must('PUT', `/jobs/ingest/${id}/batches`, { body: csv, headers: { 'content-type': contentType } });
  const close = (id: string) => must('PATCH', `/jobs/ingest/${id}`, { body: { state: 'UploadComplete' } });
  const abort = (id: string) => must('PATCH', `/jobs/ingest/${id}`, { body: { state: 'Aborted' } });
  const get = async (id: string) => (await must('GET', `/jobs/ingest/${id}`)).body as JobInfo;
  const results = async (id: string, kind: 'successfulResults' | 'failedResults' | 'unprocessedrecords') => {
    const response = await must('GET', `/jobs/ingest/${id}/${kind}/`);
    expect(response.status).toBe(200);
    expect(response.headers?.['Content-Type']).toBe('text/csv');
    return response.body as string;
  };
  /** Creates, uploads, closes and runs a job to its end. */
  const run = async (csv: string, body?: Record<string, unknown>) => {
    const job = await create(body);
    expect((await upload(job.id, csv)).status).toBe(201);
    await close(job.id);
    tick(1_000_000);
    return get(job.id);
  };
  const tick = (ms: number) => {
    clock += ms;
  };
  return { bulk, org, counters, send, must, create, upload, close, abort, get, results, run, tick };
}

const rowsOf = (csv: string) => parse(csv, { columns: true }) as Record<string, string>[];
const errorOf = (response: EmulatorResponse) =>
  (response.body as { errorCode: string; message: string }[])[0];

function contacts(count: number, from = 0): string {
  const lines = ['FirstName,LastName,Email'];
  for (let i = from; i < from + count; i++) lines.push(`First${i},Last${i},c${i}@example.com`);
  return `${lines.join('\n')}\n`;
}

afterEach(() => {
  vi.useRealTimers();
});

// --- tests ------------------------------------------------------------------------------------

describe('creating a job', () => {
  it('returns the job info Salesforce returns for a new job', async () => {
    const { create } = harness();
    const job = await create({
      object: 'Contact',
      operation: 'upsert',
      externalIdFieldName: 'External_Id__c',
    });
    expect(job).toEqual({
      id: expect.stringMatching(/^750[0-9A-Za-z]{15}$/),
      operation: 'upsert',
      object: 'Contact',
      createdById: expect.stringMatching(/^005[0-9A-Za-z]{15}$/),
      createdDate: '2025-06-01T12:00:00.000+0000',
      systemModstamp: '2025-06-01T12:00:00.000+0000',
      state: 'Open',
      externalIdFieldName: 'External_Id__c',
      concurrencyMode: 'Parallel',
      contentType: 'CSV',
      apiVersion: 65,
      jobType: 'V2Ingest',
      contentUrl: `services/data/v65.0/jobs/ingest/${job.id}/batches`,
      lineEnding: 'LF',
      columnDelimiter: 'COMMA',
    });
  });

  it('gives every job its own id', async () => {
    const { create } = harness();
    const ids = new Set([(await create()).id, (await create()).id, (await create()).id]);
    expect(ids.size).toBe(3);
  });

  it.each([
    [{ object: 'Nope__c', operation: 'insert' }, 400, 'INVALIDJOB', 'Unable to find object: Nope__c'],
    [{ operation: 'insert' }, 400, 'INVALIDJOB', 'Object is required'],
    [{ object: 'Contact' }, 400, 'INVALIDJOB', 'Operation is required'],
    [{ object: 'Contact', operation: 'merge' }, 400, 'JSON_PARSER_ERROR', 'OperationEnum'],
    [{ object: 'Contact', operation: 'upsert' }, 400, 'INVALIDJOB', 'External ID field name is required'],
    [
      { object: 'Contact', operation: 'upsert', externalIdFieldName: 'Email' },
      400,
      'INVALIDJOB',
      'Field name provided, Email is not an External ID or indexed field for Contact',
    ],
    [
      { object: 'Contact', operation: 'upsert', externalIdFieldName: 'Nope__c' },
      400,
      'INVALIDJOB',
      'Field name provided, Nope__c is not an External ID',
    ],
    [
      { object: 'Contact', operation: 'insert', lineEnding: 'CR' },
      400,
      'JSON_PARSER_ERROR',
      'LineEndingEnum',
    ],
    [
      { object: 'Contact', operation: 'insert', columnDelimiter: ':' },
      400,
      'JSON_PARSER_ERROR',
      'ColumnDelimiterEnum',
    ],
    [{ object: 'Contact', operation: 'insert', contentType: 'JSON' }, 400, 'INVALIDJOB', 'only content type'],
    [
      { object: 'Contact', operation: 'insert', contentType: 'YAML' },
      400,
      'JSON_PARSER_ERROR',
      'ContentType',
    ],
    [
      { object: 'Contact', operation: 'insert', batchSize: 5 },
      400,
      'JSON_PARSER_ERROR',
      'Unrecognized field',
    ],
  ])('rejects %j', async (body, status, errorCode, message) => {
    const { must } = harness();
    const response = await must('POST', '/jobs/ingest', { body });
    expect(response.status).toBe(status);
    expect(errorOf(response)?.errorCode).toBe(errorCode);
    expect(errorOf(response)?.message).toContain(message);
  });

  it('rejects a body that is not JSON', async () => {
    const { must } = harness();
    const response = await must('POST', '/jobs/ingest', { body: 'object=Contact' });
    expect(response.status).toBe(400);
    expect(errorOf(response)?.errorCode).toBe('JSON_PARSER_ERROR');
  });

  it('accepts Id as the upsert key, and a non-default delimiter and line ending', async () => {
    const { create } = harness();
    const job = await create({
      object: 'Contact',
      operation: 'upsert',
      externalIdFieldName: 'id',
      lineEnding: 'CRLF',
      columnDelimiter: 'SEMICOLON',
    });
    expect(job).toMatchObject({
      externalIdFieldName: 'Id',
      lineEnding: 'CRLF',
      columnDelimiter: 'SEMICOLON',
    });
  });
});

describe('the job lifecycle', () => {
  it('goes Open → UploadComplete → InProgress → JobComplete, processing nothing before it is due', async () => {
    const { create, upload, close, get, tick, org } = harness({ processingDelayMs: 100 });
    const job = await create();
    const uploaded = await upload(job.id, contacts(3));
    expect(uploaded).toEqual({ status: 201 });
    tick(1000);
    expect((await get(job.id)).state).toBe('Open');
    expect(org.calls).toHaveLength(0);

    const closed = await close(job.id);
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({ id: job.id, state: 'UploadComplete' });
    expect(closed.body).not.toHaveProperty('contentUrl');
    tick(99);
    expect(await get(job.id)).toMatchObject({ state: 'UploadComplete', numberRecordsProcessed: 0 });
    expect(org.calls).toHaveLength(0);

    tick(1);
    expect(await get(job.id)).toMatchObject({ state: 'InProgress', numberRecordsProcessed: 3 });
    expect(org.calls).toHaveLength(1);
    tick(99);
    expect((await get(job.id)).state).toBe('InProgress');
    tick(1);
    const done = await get(job.id);
    expect(done).toMatchObject({
      state: 'JobComplete',
      numberRecordsProcessed: 3,
      numberRecordsFailed: 0,
      retries: 0,
      apexProcessingTime: 0,
      systemModstamp: '2025-06-01T12:00:01.200+0000',
    });
    expect(done).not.toHaveProperty('errorMessage');
    expect(done).toHaveProperty('totalProcessingTime');
    expect(done).toHaveProperty('apiActiveProcessingTime');
  });

  it('applies the CSV with allOrNone false, the job external id and CSV sources', async () => {
    const { run, org } = harness();
    await run('External_Id__c,LastName\nX1,Smith\n', {
      object: 'Contact',
      operation: 'upsert',
      externalIdFieldName: 'External_Id__c',
    });
    expect(org.calls).toEqual([
      {
        operation: 'upsert',
        sobject: 'Contact',
        records: [{ External_Id__c: 'X1', LastName: 'Smith' }],
        options: { allOrNone: false, externalIdField: 'External_Id__c', source: 'csv' },
      },
    ]);
  });

  it.each([
    ['closing a closed job', ['close'], 'close'],
    ['closing an aborted job', ['abort'], 'close'],
    ['aborting a completed job', ['close', 'finish'], 'abort'],
    ['closing a completed job', ['close', 'finish'], 'close'],
  ])('refuses %s', async (_name, steps, last) => {
    const { create, upload, close, abort, tick, get } = harness();
    const job = await create();
    await upload(job.id, contacts(1));
    for (const step of steps) {
      if (step === 'close') await close(job.id);
      if (step === 'abort') await abort(job.id);
      if (step === 'finish') tick(1000);
    }
    const stateBefore = (await get(job.id)).state;
    const response = last === 'close' ? await close(job.id) : await abort(job.id);
    expect(response.status).toBe(400);
    expect(errorOf(response)?.errorCode).toBe('INVALIDJOBSTATE');
    expect((await get(job.id)).state).toBe(stateBefore);
  });

  it('refuses a state change to anything but UploadComplete or Aborted', async () => {
    const { create, must } = harness();
    const job = await create();
    for (const state of ['JobComplete', 'InProgress', 'Open', undefined]) {
      const response = await must('PATCH', `/jobs/ingest/${job.id}`, { body: { state } });
      expect(response.status).toBe(400);
      expect(errorOf(response)?.errorCode).toBe('INVALIDJOBSTATE');
    }
  });

  it('aborts an open job: nothing is processed and every uploaded row is unprocessed', async () => {
    const { create, upload, abort, get, tick, results, org } = harness();
    const job = await create();
    await upload(job.id, contacts(4));
    const aborted = await abort(job.id);
    expect(aborted.body).toMatchObject({ state: 'Aborted' });
    tick(10_000);
    expect(await get(job.id)).toMatchObject({ state: 'Aborted', numberRecordsProcessed: 0 });
    expect(org.calls).toHaveLength(0);
    expect(rowsOf(await results(job.id, 'unprocessedrecords')).map((row) => row.LastName)).toEqual(
      expect.arrayContaining(['Last0', 'Last1', 'Last2', 'Last3']),
    );
    expect(rowsOf(await results(job.id, 'successfulResults'))).toEqual([]);
  });

  it('aborts a job in progress: rows already processed stay written, the rest are unprocessed', async () => {
    const { create, upload, close, abort, get, tick, results, counters } = harness({
      processingDelayMs: 100,
    });
    const job = await create();
    await upload(job.id, contacts(25_000));
    await close(job.id);
    tick(100);
    expect(await get(job.id)).toMatchObject({ state: 'InProgress', numberRecordsProcessed: 10_000 });
    await abort(job.id);
    tick(10_000);
    expect(await get(job.id)).toMatchObject({ state: 'Aborted', numberRecordsProcessed: 10_000 });
    expect(counters.bulkBatches).toBe(1);
    expect(rowsOf(await results(job.id, 'successfulResults'))).toHaveLength(10_000);
    expect(rowsOf(await results(job.id, 'unprocessedrecords'))).toHaveLength(15_000);
  });
});

describe('uploading job data', () => {
  it('takes one upload per job', async () => {
    const { create, upload } = harness();
    const job = await create();
    expect((await upload(job.id, contacts(1))).status).toBe(201);
    const second = await upload(job.id, contacts(1, 1));
    expect(second.status).toBe(400);
    expect(errorOf(second)).toMatchObject({ errorCode: 'INVALIDJOB' });
    expect(errorOf(second)?.message).toContain('Found multiple contents for job');
  });

  it('takes data only while the job is Open', async () => {
    const { create, upload, close } = harness();
    const job = await create();
    await close(job.id);
    const response = await upload(job.id, contacts(1));
    expect(response.status).toBe(400);
    expect(errorOf(response)?.errorCode).toBe('INVALIDJOBSTATE');
  });

  it('takes only text/csv', async () => {
    const { create, upload } = harness();
    const job = await create();
    const response = await upload(job.id, contacts(1), 'application/json');
    expect(response.status).toBe(400);
    expect((await upload(job.id, contacts(1), 'text/csv; charset=UTF-8')).status).toBe(201);
  });

  it('refuses more than 150 MB once base64-encoded, and takes just under it', async () => {
    const { create, upload } = harness();
    const limitRaw = ((150 * 1024 * 1024) / 4) * 3;
    const tooBig = await upload((await create()).id, Buffer.alloc(limitRaw + 1, 'a'));
    expect(tooBig.status).toBe(400);
    expect(errorOf(tooBig)?.message).toContain('Exceeded max size limit');
    expect((await upload((await create()).id, Buffer.alloc(limitRaw, 'a'))).status).toBe(201);
  });
});

describe('results', () => {
  it('reports successes and failures in the files Salesforce writes', async () => {
    const { run, results } = harness();
    const info = await run('FirstName,LastName,Email\nAda,Lovelace,ada@example.com\nNo,,"nolast, really"\n');
    expect(info).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 2, numberRecordsFailed: 1 });

    const successful = await results(info.id, 'successfulResults');
    expect(successful).toMatch(/^"sf__Id","sf__Created",FirstName,LastName,Email\n"003[^"]+","true","Ada"/);
    expect(rowsOf(successful)).toEqual([
      {
        sf__Id: expect.stringMatching(/^003/),
        sf__Created: 'true',
        FirstName: 'Ada',
        LastName: 'Lovelace',
        Email: 'ada@example.com',
      },
    ]);

    const failed = await results(info.id, 'failedResults');
    expect(failed).toBe(
      '"sf__Id","sf__Error",FirstName,LastName,Email\n' +
        '"","REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --","No","","nolast, really"\n',
    );
    expect(await results(info.id, 'unprocessedrecords')).toBe('FirstName,LastName,Email\n');
  });

  it('answers with and without the trailing slash', async () => {
    const { run, must } = harness();
    const info = await run(contacts(2));
    for (const kind of ['successfulResults', 'failedResults', 'unprocessedrecords']) {
      const withSlash = await must('GET', `/jobs/ingest/${info.id}/${kind}/`);
      const without = await must('GET', `/jobs/ingest/${info.id}/${kind}`);
      expect(without).toEqual(withSlash);
      expect(without.status).toBe(200);
    }
  });

  it('keeps no row order: rows come back shuffled, the same way for the same random source', async () => {
    const upload = contacts(20);
    const first = harness();
    const second = harness();
    const order = async (h: ReturnType<typeof harness>) =>
      rowsOf(await h.results((await h.run(upload)).id, 'successfulResults')).map((row) => row.LastName);
    const firstOrder = await order(first);
    const inUploadOrder = Array.from({ length: 20 }, (_, i) => `Last${i}`);
    expect(firstOrder).not.toEqual(inUploadOrder);
    expect([...firstOrder].sort()).toEqual([...inUploadOrder].sort());
    expect(await order(second)).toEqual(firstOrder);
  });

  it('never returns two or more rows in upload order, whatever the random source says', async () => {
    const { run, results } = harness({ random: () => 0.999_999 });
    const info = await run(contacts(2));
    const lastNames = rowsOf(await results(info.id, 'successfulResults')).map((row) => row.LastName);
    expect(lastNames).toEqual(['Last1', 'Last0']);
  });

  it('serves the same file on every request', async () => {
    const { run, results } = harness();
    const info = await run(contacts(30));
    expect(await results(info.id, 'successfulResults')).toBe(await results(info.id, 'successfulResults'));
  });

  it('is not available before the job ends', async () => {
    const { create, upload, close, must } = harness();
    const job = await create();
    await upload(job.id, contacts(1));
    for (const step of ['open', 'closed']) {
      if (step === 'closed') await close(job.id);
      const response = await must('GET', `/jobs/ingest/${job.id}/successfulResults/`);
      expect(response.status).toBe(400);
      expect(errorOf(response)?.errorCode).toBe('INVALIDJOBSTATE');
    }
  });

  it('marks upserted rows created or not', async () => {
    const { run, results } = harness();
    const body = { object: 'Contact', operation: 'upsert', externalIdFieldName: 'External_Id__c' };
    await run('External_Id__c,LastName\nA,One\n', body);
    const info = await run('External_Id__c,LastName\nA,Uno\nB,Two\n', body);
    const created = Object.fromEntries(
      rowsOf(await results(info.id, 'successfulResults')).map((row) => [row.External_Id__c, row.sf__Created]),
    );
    expect(created).toEqual({ A: 'false', B: 'true' });
  });

  it('writes results with the job delimiter and line ending', async () => {
    const { run, results } = harness();
    const info = await run('LastName;Email\r\n"Semi;colon";"two\r\nlines"\r\n', {
      object: 'Contact',
      operation: 'insert',
      lineEnding: 'CRLF',
      columnDelimiter: 'SEMICOLON',
    });
    expect(info.state).toBe('JobComplete');
    const file = await results(info.id, 'successfulResults');
    expect(file).toMatch(
      /^"sf__Id";"sf__Created";LastName;Email\r\n"003[^"]+";"true";"Semi;colon";"two\r\nlines"\r\n$/,
    );
  });
});

describe('internal batches', () => {
  it('processes 25,000 records as 3 internal batches of at most 10,000, one delay apart', async () => {
    const { create, upload, close, get, tick, org, counters } = harness({ processingDelayMs: 100 });
    const job = await create();
    await upload(job.id, contacts(25_000));
    await close(job.id);
    tick(100);
    expect(await get(job.id)).toMatchObject({ state: 'InProgress', numberRecordsProcessed: 10_000 });
    tick(100);
    expect(await get(job.id)).toMatchObject({ state: 'InProgress', numberRecordsProcessed: 20_000 });
    tick(100);
    expect(await get(job.id)).toMatchObject({ state: 'InProgress', numberRecordsProcessed: 25_000 });
    tick(100);
    expect(await get(job.id)).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 25_000 });
    expect(org.calls.map((call) => call.records.length)).toEqual([10_000, 10_000, 5_000]);
    expect(counters.bulkBatches).toBe(3);
  });

  it('catches up at once when polled late', async () => {
    const { run, counters } = harness();
    expect(await run(contacts(10_001))).toMatchObject({
      state: 'JobComplete',
      numberRecordsProcessed: 10_001,
    });
    expect(counters.bulkBatches).toBe(2);
  });
});

describe('CSV semantics', () => {
  it('leaves a field unchanged for an empty value and sets it to null for #N/A', async () => {
    const { run, org } = harness();
    const inserted = await run('LastName,Email,Phone\nSmith,s@example.com,555\n');
    expect(inserted.state).toBe('JobComplete');
    const id = [...org.records.keys()][0];
    await run(`Id,Email,Phone\n${id},,#N/A\n`, { object: 'Contact', operation: 'update' });
    expect(org.calls[1]?.records).toEqual([{ Id: id, Phone: null }]);
    expect(org.records.get(String(id))).toEqual({ Id: id, LastName: 'Smith', Email: 's@example.com' });
  });

  it('passes relationship columns as nested external id references, case-insensitively', async () => {
    const { run, org } = harness();
    await run('lastname,Account.External_Id__c,Partner__r.External_Id__c\nSmith,ACME-1,#N/A\nJones,,P-2\n');
    expect(org.calls[0]?.records).toEqual([
      { LastName: 'Smith', Account: { External_Id__c: 'ACME-1' }, Partner__c: null },
      { LastName: 'Jones', Partner__r: { External_Id__c: 'P-2' } },
    ]);
  });

  it('relies on field names alone when the org offers no schema detail', async () => {
    const { run, org, create } = harness();
    delete org.sobjectSchema;
    await run('LastName,Account.External_Id__c,partner__r.External_Id__c\nSmith,ACME-1,P-1\n');
    expect(org.calls[0]?.records).toEqual([
      { LastName: 'Smith', Account: { External_Id__c: 'ACME-1' }, Partner__r: { External_Id__c: 'P-1' } },
    ]);
    const upsert = await create({
      object: 'Contact',
      operation: 'upsert',
      externalIdFieldName: 'external_id__c',
    });
    expect(upsert.externalIdFieldName).toBe('External_Id__c');
  });

  it('sends only Id for delete and hardDelete', async () => {
    const { run, org } = harness();
    await run(contacts(2));
    const ids = [...org.records.keys()];
    for (const operation of ['delete', 'hardDelete']) {
      const info = await run(`Id\n${ids.join('\n')}\n`, { object: 'Contact', operation });
      expect(info.numberRecordsProcessed).toBe(2);
    }
    expect(org.calls[1]).toMatchObject({ operation: 'delete', records: ids.map((Id) => ({ Id })) });
    expect(org.calls[2]).toMatchObject({ operation: 'hardDelete' });
  });

  it('fails the whole job on an unknown column, processing nothing', async () => {
    const { run, org, results, counters } = harness();
    const info = await run('LastName,Foo\nSmith,bar\nJones,baz\n');
    expect(info).toMatchObject({
      state: 'Failed',
      errorMessage: 'InvalidBatch : Field name not found : Foo',
      numberRecordsProcessed: 0,
      numberRecordsFailed: 0,
    });
    expect(org.calls).toHaveLength(0);
    expect(counters.bulkBatches).toBe(0);
    expect(rowsOf(await results(info.id, 'unprocessedrecords'))).toHaveLength(2);
    expect(await results(info.id, 'failedResults')).toBe('"sf__Id","sf__Error",LastName,Foo\n');
  });

  it('fails the whole job on an unknown relationship column', async () => {
    const { run } = harness();
    const info = await run('LastName,Owner.External_Id__c\nSmith,x\n');
    expect(info).toMatchObject({
      state: 'Failed',
      errorMessage: 'InvalidBatch : Field name not found : Owner.External_Id__c',
    });
  });

  it.each([
    ['LF', 'LastName\r\nSmith\r\n', 'Current LineEnding setting is LF'],
    ['CRLF', 'LastName\nSmith\n', 'Current LineEnding setting is CRLF'],
  ])('fails a %s job whose data has other line endings', async (lineEnding, csv, message) => {
    const { run, org, results } = harness();
    const info = await run(csv, { object: 'Contact', operation: 'insert', lineEnding });
    expect(info.state).toBe('Failed');
    expect(info.errorMessage).toBe(`ClientInputError : LineEnding is invalid on user data. ${message}`);
    expect(org.calls).toHaveLength(0);
    expect(rowsOf(await results(info.id, 'unprocessedrecords'))).toEqual([{ LastName: 'Smith' }]);
  });

  it('treats line breaks inside quoted values as data, not line endings', async () => {
    const { run, org } = harness();
    const info = await run('LastName,Email\n"two\r\nlines","a ""quoted"" word"\n');
    expect(info.state).toBe('JobComplete');
    expect(org.calls[0]?.records).toEqual([{ LastName: 'two\r\nlines', Email: 'a "quoted" word' }]);
  });

  it('reads a UTF-8 BOM and keeps values untrimmed', async () => {
    const { run, org } = harness();
    await run('\uFEFFLastName,FirstName\n  Smith , Ana\n');
    expect(org.calls[0]?.records).toEqual([{ LastName: '  Smith ', FirstName: ' Ana' }]);
  });

  it('fails the job on malformed CSV and on rows of the wrong width', async () => {
    const { run } = harness();
    expect(await run('LastName\n"unterminated\n')).toMatchObject({
      state: 'Failed',
      errorMessage: expect.stringMatching(/^ClientInputError : /),
    });
    expect(await run('LastName,Email\nSmith\n')).toMatchObject({
      state: 'Failed',
      errorMessage: 'ClientInputError : Row 2 has 1 columns, the header row has 2',
    });
  });

  it('fails a job closed without data', async () => {
    const { create, close, tick, get } = harness();
    const job = await create();
    await close(job.id);
    tick(1000);
    expect(await get(job.id)).toMatchObject({
      state: 'Failed',
      errorMessage: expect.stringContaining('No data'),
    });
  });
});

describe('injected job failures', () => {
  it('fails a job before any row with the injected message', async () => {
    const failJob = vi.fn(() => 'InternalServerError : simulated outage');
    const { run, results, org } = harness({ failJob });
    const info = await run(contacts(3));
    expect(info).toMatchObject({
      state: 'Failed',
      errorMessage: 'InternalServerError : simulated outage',
      numberRecordsProcessed: 0,
    });
    expect(failJob).toHaveBeenCalledWith({ id: info.id, object: 'Contact', operation: 'insert' });
    expect(org.calls).toHaveLength(0);
    expect(rowsOf(await results(info.id, 'unprocessedrecords'))).toHaveLength(3);
  });

  it('keeps the rows written before an injected failure and leaves the rest unprocessed', async () => {
    const { run, results, org } = harness({
      failJob: () => ({ errorMessage: 'Timeout : batch took too long', afterRecords: 2 }),
    });
    const info = await run(contacts(5));
    expect(info).toMatchObject({
      state: 'Failed',
      numberRecordsProcessed: 2,
      errorMessage: 'Timeout : batch took too long',
    });
    expect(org.records.size).toBe(2);
    expect(rowsOf(await results(info.id, 'successfulResults'))).toHaveLength(2);
    expect(rowsOf(await results(info.id, 'unprocessedrecords'))).toHaveLength(3);
  });

  it('fails the job when the org throws, keeping earlier batches', async () => {
    const { run, org } = harness();
    const apply = org.apply.bind(org);
    let calls = 0;
    org.apply = (...args) => {
      calls += 1;
      if (calls === 2) throw new Error('boom');
      return apply(...args);
    };
    const info = await run(contacts(15_000));
    expect(info).toMatchObject({
      state: 'Failed',
      numberRecordsProcessed: 10_000,
      errorMessage: 'InternalServerError : boom',
    });
  });
});

describe('listing and deleting jobs', () => {
  it('lists jobs 1,000 a page', async () => {
    const { create, must } = harness();
    for (let i = 0; i < 1001; i++) await create();
    const first = await must('GET', '/jobs/ingest');
    const page = first.body as { done: boolean; records: JobInfo[]; nextRecordsUrl: string | null };
    expect(page.done).toBe(false);
    expect(page.records).toHaveLength(1000);
    expect(page.records[0]).toMatchObject({ state: 'Open', jobType: 'V2Ingest', object: 'Contact' });
    expect(page.nextRecordsUrl).toMatch(/^\/services\/data\/v65\.0\/jobs\/ingest\?queryLocator=/);

    const next = new URL(String(page.nextRecordsUrl), 'http://x');
    const second = await must('GET', '/jobs/ingest/', { query: next.search });
    expect(second.body).toMatchObject({ done: true, nextRecordsUrl: null });
    expect((second.body as { records: JobInfo[] }).records).toHaveLength(1);
    const ids = new Set(
      [...page.records, ...(second.body as { records: JobInfo[] }).records].map((job) => job.id),
    );
    expect(ids.size).toBe(1001);
  });

  it('filters out other job types', async () => {
    const { create, must } = harness();
    await create();
    expect((await must('GET', '/jobs/ingest', { query: 'jobType=Classic' })).body).toMatchObject({
      records: [],
    });
    expect((await must('GET', '/jobs/ingest', { query: 'jobType=V2Ingest' })).body).toMatchObject({
      records: [expect.anything()],
    });
  });

  it('deletes only jobs that are closed, after which the job is not found', async () => {
    const { create, upload, close, tick, must, bulk } = harness();
    const job = await create();
    await upload(job.id, contacts(1));
    const refused = await must('DELETE', `/jobs/ingest/${job.id}`);
    expect(refused.status).toBe(400);
    expect(errorOf(refused)?.errorCode).toBe('API_ERROR');

    await close(job.id);
    tick(1000);
    expect(await must('DELETE', `/jobs/ingest/${job.id}`)).toEqual({ status: 204 });
    for (const path of [`/jobs/ingest/${job.id}`, `/jobs/ingest/${job.id}/successfulResults/`]) {
      const gone = await must('GET', path);
      expect(gone.status).toBe(404);
      expect(errorOf(gone)).toEqual({
        errorCode: 'NOT_FOUND',
        message: 'The requested resource does not exist',
      });
    }
    expect(bulk.jobs()).toEqual([]);
  });

  it('lists jobs in no particular order, as Salesforce documents (yet every job once across pages)', async () => {
    const { create, must } = harness();
    const created: string[] = [];
    for (let i = 0; i < 20; i++) created.push((await create()).id);
    const listed = ((await must('GET', '/jobs/ingest')).body as { records: JobInfo[] }).records.map(
      (j) => j.id,
    );
    expect([...listed].sort()).toEqual([...created].sort());
    expect(listed).not.toEqual(created);
    // The same order on every listing: a query locator pages through one snapshot.
    const again = ((await must('GET', '/jobs/ingest')).body as { records: JobInfo[] }).records.map(
      (j) => j.id,
    );
    expect(again).toEqual(listed);
  });

  it('lists jobs with who created them and when, without processing figures', async () => {
    const { create, must } = harness({ userId: '005Hz0000000007AAA' });
    await create();
    const [job] = ((await must('GET', '/jobs/ingest')).body as { records: Record<string, unknown>[] })
      .records;
    expect(job).toMatchObject({
      createdById: '005Hz0000000007AAA',
      createdDate: '2025-06-01T12:00:00.000+0000',
    });
    expect(job).not.toHaveProperty('numberRecordsProcessed');
  });

  it('expires a job whatever its state, as Salesforce deletes jobs 7 days after creation', async () => {
    const { create, upload, close, must, bulk } = harness();
    const job = await create();
    await upload(job.id, contacts(3));
    await close(job.id);
    expect(bulk.expire(job.id)).toBe(true);
    expect((await must('GET', `/jobs/ingest/${job.id}`)).status).toBe(404);
    expect(bulk.history()).toMatchObject([{ id: job.id, state: 'UploadComplete', deleted: true }]);
    expect(bulk.expire(job.id)).toBe(false);
  });

  it('keeps when each job was closed and ended, and its rows, after it is deleted', async () => {
    const { create, upload, close, tick, bulk } = harness();
    const job = await create();
    await upload(job.id, contacts(2));
    await close(job.id);
    tick(1000);
    bulk.expire(job.id);
    const [history] = bulk.history();
    expect(history).toMatchObject({
      state: 'JobComplete',
      deleted: true,
      header: ['FirstName', 'LastName', 'Email'],
    });
    expect(history!.rows).toHaveLength(2);
    expect(history!.endedAt! - history!.closedAt!).toBeGreaterThanOrEqual(200);
  });

  it('aborts an InProgress job from the handle; the rows it processed stay, the rest are unprocessed', async () => {
    const { create, upload, close, tick, must, bulk, org } = harness();
    const job = await create();
    await upload(job.id, contacts(15_000));
    await close(job.id);
    tick(100);
    expect((await must('GET', `/jobs/ingest/${job.id}`)).body).toMatchObject({ state: 'InProgress' });
    expect(bulk.abort(job.id)).toBe(true);
    tick(1000);
    expect(org.records.size).toBe(10_000);
    expect((await must('GET', `/jobs/ingest/${job.id}`)).body).toMatchObject({ state: 'Aborted' });
    const unprocessed = String((await must('GET', `/jobs/ingest/${job.id}/unprocessedrecords/`)).body);
    expect(unprocessed.trim().split('\n')).toHaveLength(5001);
    expect(bulk.abort(job.id)).toBe(false);
  });

  it('changes the processing pace of every job from now on', async () => {
    const { create, upload, close, tick, must, bulk } = harness();
    bulk.setProcessingDelay(10_000);
    const job = await create();
    await upload(job.id, contacts(1));
    await close(job.id);
    tick(1000);
    expect((await must('GET', `/jobs/ingest/${job.id}`)).body).toMatchObject({ state: 'UploadComplete' });
    bulk.setProcessingDelay(1);
    tick(10);
    expect((await must('GET', `/jobs/ingest/${job.id}`)).body).toMatchObject({ state: 'JobComplete' });
  });

  it('deletes a job waiting to be processed, which then never runs', async () => {
    const { create, upload, close, tick, must, org } = harness();
    const job = await create();
    await upload(job.id, contacts(1));
    await close(job.id);
    expect((await must('DELETE', `/jobs/ingest/${job.id}`)).status).toBe(204);
    tick(1000);
    expect(org.calls).toHaveLength(0);
  });
});

describe('routing', () => {
  it('answers only below /jobs/ingest', async () => {
    const { send } = harness();
    expect(await send('GET', '/sobjects/Contact/describe')).toBeUndefined();
    expect(await send('GET', '/jobs/query')).toBeUndefined();
    expect(await send('GET', '/jobs/ingestion')).toBeUndefined();
  });

  it('answers 404 for unknown jobs and resources, 405 for unknown methods', async () => {
    const { create, must } = harness();
    const job = await create();
    expect((await must('GET', '/jobs/ingest/750Hz0000000zzzAAA')).status).toBe(404);
    expect((await must('GET', `/jobs/ingest/${job.id}/batches/1`)).status).toBe(404);
    expect((await must('GET', `/jobs/ingest/${job.id}/results`)).status).toBe(404);
    const notAllowed = await must('POST', `/jobs/ingest/${job.id}`);
    expect(notAllowed.status).toBe(405);
    expect(errorOf(notAllowed)?.errorCode).toBe('METHOD_NOT_ALLOWED');
    expect((await must('GET', `/jobs/ingest/${job.id}/batches`)).status).toBe(405);
  });

  it('finds a job by its 15-character id', async () => {
    const { create, get } = harness();
    const job = await create();
    expect((await get(job.id.slice(0, 15))).id).toBe(job.id);
  });

  it('resets to no jobs', async () => {
    const { create, bulk, get } = harness();
    const job = await create();
    bulk.reset();
    expect(bulk.jobs()).toEqual([]);
    await expect(get(job.id)).resolves.toMatchObject([{ errorCode: 'NOT_FOUND' }]);
  });
});

describe('with the real clock', () => {
  it('processes a closed job on its own, without being polled', async () => {
    const org = fakeOrg();
    const counters: Counters = { apiCalls: 0, bulkBatches: 0 };
    const bulk = createBulkIngest({ org, counters, processingDelayMs: 5 });
    const request = (method: string, path: string, body: string, contentType = 'application/json') =>
      bulk({
        method,
        path,
        query: new URLSearchParams(),
        headers: { 'content-type': contentType },
        body: Buffer.from(body),
        apiVersion: '65.0',
        baseUrl: 'http://127.0.0.1:1',
      });
    const created = (
      await request('POST', '/jobs/ingest', JSON.stringify({ object: 'Contact', operation: 'insert' }))
    )?.body as JobInfo;
    await request('PUT', `/jobs/ingest/${created.id}/batches`, contacts(2), 'text/csv');
    await request('PATCH', `/jobs/ingest/${created.id}`, JSON.stringify({ state: 'UploadComplete' }));
    await vi.waitFor(() => expect(org.records.size).toBe(2), { timeout: 2000, interval: 5 });
    expect(counters.bulkBatches).toBe(1);
    await vi.waitFor(() => expect(bulk.jobs()[0]?.state).toBe('JobComplete'), { timeout: 2000 });
    bulk.reset();
  });
});
