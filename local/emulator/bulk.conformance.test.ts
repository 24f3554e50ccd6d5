// Bulk API 2.0 end to end through the emulator's HTTP server, driven only by jsforce's bulk2 client:
// if jsforce is happy with these requests and responses, they are shaped as Salesforce shapes them.

import { Connection } from '@jsforce/jsforce-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from './server.ts';

const VERSION = '65.0';
const POLL_INTERVAL_MS = 20;
const POLL_TIMEOUT_MS = 10_000;

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ bulkProcessingDelayMs: 10 });
});
afterAll(() => emulator.close());
beforeEach(() => emulator.reset());

async function connect(): Promise<Connection> {
  const { clientId, clientSecret } = emulator.credentials;
  const conn = new Connection({
    version: VERSION,
    oauth2: { clientId, clientSecret, loginUrl: emulator.url },
  });
  await conn.authorize({ grant_type: 'client_credentials' });
  conn.bulk2.pollInterval = POLL_INTERVAL_MS;
  conn.bulk2.pollTimeout = POLL_TIMEOUT_MS;
  return conn;
}

describe('Bulk API 2.0 ingest through jsforce', () => {
  it('inserts rows, reporting the failing row in failedResults and the others in successfulResults', async () => {
    const conn = await connect();
    const job = conn.bulk2.createJob({ object: 'Lead', operation: 'insert' });
    const opened = await job.open();
    expect(opened).toMatchObject({ state: 'Open', object: 'Lead', operation: 'insert', contentType: 'CSV' });
    await job.uploadData(
      'LastName,Company,Email\nLovelace,Analytical,ada@example.com\nNoCompany,,x@example.com\n',
    );
    await job.close();
    await job.poll();
    expect(job.getInfo()).toMatchObject({
      state: 'JobComplete',
      numberRecordsProcessed: 2,
      numberRecordsFailed: 1,
      jobType: 'V2Ingest',
      createdById: emulator.userId,
    });

    const { successfulResults, failedResults, unprocessedRecords } = await job.getAllResults();
    expect(successfulResults).toEqual([
      {
        sf__Id: expect.stringMatching(/^00Q\w{15}$/),
        sf__Created: 'true',
        LastName: 'Lovelace',
        Company: 'Analytical',
        Email: 'ada@example.com',
      },
    ]);
    expect(failedResults).toEqual([
      {
        sf__Id: '',
        sf__Error: 'REQUIRED_FIELD_MISSING:Required fields are missing: [Company]:Company --',
        LastName: 'NoCompany',
        Company: '',
        Email: 'x@example.com',
      },
    ]);
    expect(unprocessedRecords).toEqual([]);

    const saved = await conn.query<{ Id: string; Email: string }>('SELECT Id, Email FROM Lead');
    expect(saved.records.map((lead) => [lead.Id, lead.Email])).toEqual([
      [successfulResults[0]?.sf__Id, 'ada@example.com'],
    ]);
    expect(emulator.counters.bulkBatches).toBe(1);
  });

  it('upserts by external id with relationship columns, and reports created or updated', async () => {
    const conn = await connect();
    const account = await conn.sobject('Account').create({ Name: 'Acme', External_Id__c: 'ACME-1' });
    const load = (input: string) =>
      conn.bulk2.loadAndWaitForResults({
        object: 'Contact',
        operation: 'upsert',
        externalIdFieldName: 'External_Id__c',
        input,
      });
    await load('External_Id__c,LastName,Account.External_Id__c\nC-1,Smith,ACME-1\n');
    const second = await load('External_Id__c,LastName,Phone\nC-1,Smith-Jones,#N/A\nC-2,Doe,555\n');
    const rows = second.successfulResults as unknown as Record<string, string>[];
    const created = rows.map((row) => [row.External_Id__c, row.sf__Created]);
    expect(Object.fromEntries(created)).toEqual({ 'C-1': 'false', 'C-2': 'true' });

    const contacts = emulator.org.list('Contact').map((record) => record.fields);
    expect(contacts).toEqual([
      expect.objectContaining({ External_Id__c: 'C-1', LastName: 'Smith-Jones', AccountId: account.id }),
      expect.objectContaining({ External_Id__c: 'C-2', LastName: 'Doe', Phone: '555' }),
    ]);
    expect(contacts[1]).not.toHaveProperty('AccountId');
  });

  it('fails the whole job on an unknown column, leaving every row unprocessed', async () => {
    const conn = await connect();
    const job = conn.bulk2.createJob({ object: 'Lead', operation: 'insert' });
    await job.open();
    await job.uploadData('LastName,Company,Nope__c\nA,B,C\n');
    await job.close();
    await expect(job.poll()).rejects.toThrow(
      'Ingest job failed to complete due to: InvalidBatch : Field name not found : Nope__c',
    );
    expect(await job.getUnprocessedRecords()).toEqual([{ LastName: 'A', Company: 'B', Nope__c: 'C' }]);
    expect(await job.getSuccessfulResults()).toEqual([]);
  });

  it('fails the whole job on a relationship column naming a field the referenced sObject has not as an external id', async () => {
    const conn = await connect();
    const job = conn.bulk2.createJob({ object: 'Contact', operation: 'insert' });
    await job.open();
    await job.uploadData('LastName,Account.Nope__c\nA,x\n');
    await job.close();
    await expect(job.poll()).rejects.toThrow(
      'Ingest job failed to complete due to: InvalidBatch : Field name not found : Account.Nope__c',
    );
  });

  it('fails a job with the message a failJob fault gives, keeping the rows it wrote first', async () => {
    const conn = await connect();
    emulator.faults.add({ route: 'bulk', fault: 'failJob', errorMessage: 'InternalServerError : injected' });
    const job = conn.bulk2.createJob({ object: 'Lead', operation: 'insert' });
    await job.open();
    await job.uploadData('LastName,Company\nA,X\nB,Y\n');
    await job.close();
    await expect(job.poll()).rejects.toThrow(
      'Ingest job failed to complete due to: InternalServerError : injected',
    );
    const results = await job.getAllResults();
    expect(results.successfulResults.length + (results.unprocessedRecords as unknown[]).length).toBe(2);
  });

  it('aborts and deletes jobs; a deleted job is NOT_FOUND', async () => {
    const conn = await connect();
    const job = conn.bulk2.createJob({ object: 'Lead', operation: 'insert' });
    await job.open();
    await job.uploadData('LastName,Company\nA,X\n');
    await job.abort();
    await expect(job.poll()).rejects.toThrow('Job has been aborted');
    expect(await job.getUnprocessedRecords()).toEqual([{ LastName: 'A', Company: 'X' }]);
    await job.delete();
    await expect(job.check()).rejects.toMatchObject({ errorCode: 'NOT_FOUND' });
    expect((await conn.query('SELECT COUNT() FROM Lead')).totalSize).toBe(0);
  });

  it('refuses an unknown object and a second upload with Salesforce-shaped errors', async () => {
    const conn = await connect();
    await expect(
      conn.bulk2.createJob({ object: 'Nope__c', operation: 'insert' }).open(),
    ).rejects.toMatchObject({
      errorCode: 'INVALIDJOB',
      message: 'Unable to find object: Nope__c',
    });
    const job = conn.bulk2.createJob({ object: 'Lead', operation: 'insert' });
    await job.open();
    await job.uploadData('LastName,Company\nA,X\n');
    const again = await conn
      .request({
        method: 'PUT',
        url: `/services/data/v${VERSION}/jobs/ingest/${job.id}/batches`,
        body: 'LastName,Company\nB,Y\n',
        headers: { 'Content-Type': 'text/csv' },
      })
      .catch((error: unknown) => error);
    expect(again).toMatchObject({ errorCode: 'INVALIDJOB' });
  });

  it('lists jobs and counts one bulk batch per 10,000 records', async () => {
    const conn = await connect();
    const rows = Array.from({ length: 10_001 }, (_, i) => `L${i},C${i}`);
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Lead',
      operation: 'insert',
      input: `LastName,Company\n${rows.join('\n')}\n`,
    });
    expect(results.successfulResults).toHaveLength(10_001);
    expect(emulator.counters.bulkBatches).toBe(2);
    const list = await conn.request<{ done: boolean; records: { id: string; state: string }[] }>(
      `/services/data/v${VERSION}/jobs/ingest`,
    );
    expect(list).toMatchObject({ done: true, records: [{ state: 'JobComplete' }] });
  });
});
