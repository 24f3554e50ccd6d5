// Bulk API 2.0 job steps against the emulator: each retryable and safe to call again.

import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { encodeCsv } from '../../lib/csv/index.ts';
import { isJobGone } from '../../lib/salesforce/bulk.ts';
import { createFetchSend, type SendStreamed } from '../../lib/salesforce/http.ts';
import { ResponseLostError } from '../../lib/salesforce/index.ts';
import type { BulkJobInfo, SalesforceClient } from '../../lib/salesforce/types.ts';
import type { Emulator } from '../../local/emulator/server.ts';
import { callsOf, deadlineIn, emulator, testClient } from './helpers.ts';

let emu: Emulator;
beforeAll(async () => {
  emu = await emulator();
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => emu.reset());

const leadsCsv = (n: number, prefix = 'B') =>
  encodeCsv(
    Array.from({ length: n }, (_, i) => ({
      LastName: `${prefix}${i}`,
      Company: 'Acme',
      CustomId__c: `${prefix}-${i}`,
    })),
  ).text;

async function finished(client: SalesforceClient, jobId: string): Promise<BulkJobInfo> {
  for (let i = 0; i < 500; i++) {
    const info = await client.bulk.check(jobId, deadlineIn());
    if (['JobComplete', 'Failed', 'Aborted'].includes(info.state)) return info;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('job did not finish');
}

async function rows(iterable: AsyncIterable<Record<string, string>>) {
  const out: Array<Record<string, string>> = [];
  for await (const row of iterable) out.push(row);
  return out;
}

test('an upload that gets a 503 once is retried with the full body, and the job counts every record', async () => {
  emu.faults.add({ route: 'bulk', method: 'PUT', fault: 'status', status: 503 });
  const { client, sleeps } = testClient(emu);

  const job = await client.bulk.create({ object: 'Lead', operation: 'insert' }, deadlineIn());
  expect(job).toMatchObject({ object: 'Lead', operation: 'insert', state: 'Open' });
  await client.bulk.upload(job.id, leadsCsv(250), deadlineIn());
  const closed = await client.bulk.close(job.id, deadlineIn());
  const done = await finished(client, job.id);

  expect(closed.state).not.toBe('Open');
  expect(sleeps).toHaveLength(1);
  expect(
    callsOf(emu, 'bulk')
      .filter((c) => c.method === 'PUT')
      .map((c) => c.status),
  ).toEqual([503, 201]);
  expect(done).toMatchObject({ state: 'JobComplete', numberRecordsProcessed: 250, numberRecordsFailed: 0 });
  expect(emu.org.list('Lead')).toHaveLength(250);
});

test('every step can be called again: upload, close and abort of a job that is past them', async () => {
  const { client } = testClient(emu);
  const job = await client.bulk.create({ object: 'Lead', operation: 'insert' }, deadlineIn());
  const csv = Buffer.from(leadsCsv(3));

  await client.bulk.upload(job.id, csv, deadlineIn());
  await client.bulk.upload(job.id, csv, deadlineIn());
  await client.bulk.close(job.id, deadlineIn());
  await expect(client.bulk.close(job.id, deadlineIn())).resolves.toMatchObject({ id: job.id });
  await client.bulk.upload(job.id, csv, deadlineIn());
  const done = await finished(client, job.id);
  await expect(client.bulk.abort(job.id, deadlineIn())).resolves.toMatchObject({ state: 'JobComplete' });
  await expect(client.bulk.close(job.id, deadlineIn())).resolves.toMatchObject({ state: 'JobComplete' });

  expect(done.numberRecordsProcessed).toBe(3);
  expect(emu.org.list('Lead')).toHaveLength(3);
});

test('abort stops an open job; closing it afterwards is refused: an aborted job never processes', async () => {
  const { client } = testClient(emu);
  const job = await client.bulk.create({ object: 'Lead', operation: 'insert' }, deadlineIn());
  await expect(client.bulk.abort(job.id, deadlineIn())).resolves.toMatchObject({ state: 'Aborted' });
  await expect(client.bulk.close(job.id, deadlineIn())).rejects.toMatchObject({ code: 'INVALIDJOBSTATE' });
});

test('a job Salesforce no longer has answers 404, which isJobGone tells apart', async () => {
  const { client } = testClient(emu);
  const job = await client.bulk.create({ object: 'Lead', operation: 'insert' }, deadlineIn());
  emu.bulk.expire(job.id);
  const error = await client.bulk.check(job.id, deadlineIn()).catch((e: unknown) => e);
  expect(isJobGone(error)).toBe(true);
  expect(isJobGone(new Error('other'))).toBe(false);
});

test('lists every ingest job of the org, with who created it and when', async () => {
  const { client } = testClient(emu);
  const created = [];
  for (let i = 0; i < 3; i++)
    created.push(await client.bulk.create({ object: 'Lead', operation: 'insert' }, deadlineIn()));
  const listed = [];
  for await (const job of client.bulk.list(deadlineIn())) listed.push(job);
  expect(listed.map((j) => j.id).sort()).toEqual(created.map((j) => j.id).sort());
  expect(listed[0]).toMatchObject({
    object: 'Lead',
    operation: 'insert',
    state: 'Open',
    createdById: created[0]!.createdById,
  });
  expect(created[0]!.createdById).toMatch(/^005/);
});

test('a job create whose response is lost is not resent (RESPONSE_LOST)', async () => {
  emu.faults.add({ route: 'bulk', method: 'POST', fault: 'reset', when: 'after' });
  const { client } = testClient(emu);
  const error = await client.bulk
    .create({ object: 'Lead', operation: 'insert' }, deadlineIn())
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ResponseLostError);
  expect((error as ResponseLostError).code).toBe('RESPONSE_LOST');
  expect(emu.bulk.jobs()).toHaveLength(1);
});

test('results stream successful, failed and unprocessed rows; upsert jobs carry the external id field', async () => {
  const { client } = testClient(emu);
  const job = await client.bulk.create(
    { object: 'Lead', operation: 'upsert', externalIdFieldName: 'CustomId__c' },
    deadlineIn(),
  );
  const csv = `${leadsCsv(4)}Bad,,B-9\n`;
  await client.bulk.upload(job.id, csv, deadlineIn());
  await client.bulk.close(job.id, deadlineIn());
  const done = await finished(client, job.id);

  expect(done).toMatchObject({
    externalIdFieldName: 'CustomId__c',
    numberRecordsProcessed: 5,
    numberRecordsFailed: 1,
  });
  const successful = await rows(client.bulk.results(job.id, 'successful', deadlineIn()));
  const failed = await rows(client.bulk.results(job.id, 'failed', deadlineIn()));
  const unprocessed = await rows(client.bulk.results(job.id, 'unprocessed', deadlineIn()));
  expect(successful.map((r) => r.CustomId__c).sort()).toEqual(['B-0', 'B-1', 'B-2', 'B-3']);
  expect(successful.every((r) => r.sf__Created === 'true' && r.sf__Id?.startsWith('00Q'))).toBe(true);
  expect(failed).toEqual([
    expect.objectContaining({
      CustomId__c: 'B-9',
      sf__Error: expect.stringContaining('REQUIRED_FIELD_MISSING'),
    }),
  ]);
  expect(unprocessed).toEqual([]);
});

test('a failed job reports its error message and its unprocessed rows', async () => {
  emu.faults.add({ route: 'bulk', fault: 'failJob', match: { object: 'Lead' } });
  const { client } = testClient(emu);
  const job = await client.bulk.create({ object: 'Lead', operation: 'insert' }, deadlineIn());
  await client.bulk.upload(job.id, leadsCsv(3), deadlineIn());
  await client.bulk.close(job.id, deadlineIn());

  const done = await finished(client, job.id);

  expect(done.state).toBe('Failed');
  expect(done.errorMessage).toContain('InternalServerError');
  expect(await rows(client.bulk.results(job.id, 'unprocessed', deadlineIn()))).toHaveLength(3);
});

test('result downloads are retried on 503 and refresh an expired session', async () => {
  const { client } = testClient(emu);
  const job = await client.bulk.create({ object: 'Lead', operation: 'insert' }, deadlineIn());
  await client.bulk.upload(job.id, leadsCsv(10_000), deadlineIn());
  await client.bulk.close(job.id, deadlineIn());
  await finished(client, job.id);
  emu.faults.add({ route: 'bulk', method: 'GET', path: 'successfulResults', fault: 'status', status: 503 });
  emu.expireTokens();

  let count = 0;
  for await (const row of client.bulk.results(job.id, 'successful', deadlineIn())) {
    if (row.sf__Id) count++;
  }

  expect(count).toBe(10_000);
  expect(callsOf(emu, 'oauth')).toHaveLength(2);
  expect(
    callsOf(emu, 'bulk')
      .filter((c) => c.path.includes('successfulResults'))
      .map((c) => c.status),
  ).toEqual([503, 401, 200]);
});

test('a 10,000-row result file is parsed as it arrives, not buffered whole', async () => {
  const real = createFetchSend();
  let received = 0;
  const sendStreamed: SendStreamed = async (request, timeout) => {
    const response = await real(request, timeout);
    const body = response.body;
    return {
      ...response,
      body: (async function* () {
        for await (const chunk of body) {
          received += chunk.byteLength;
          yield chunk;
        }
      })(),
    };
  };
  const { client } = testClient(emu, { sendStreamed });
  const job = await client.bulk.create({ object: 'Lead', operation: 'insert' }, deadlineIn());
  await client.bulk.upload(job.id, leadsCsv(10_000), deadlineIn());
  await client.bulk.close(job.id, deadlineIn());
  await finished(client, job.id);

  let receivedAtFirstRow = -1;
  let count = 0;
  for await (const _row of client.bulk.results(job.id, 'successful', deadlineIn())) {
    if (count++ === 0) receivedAtFirstRow = received;
  }

  expect(count).toBe(10_000);
  expect(receivedAtFirstRow).toBeGreaterThan(0);
  expect(receivedAtFirstRow).toBeLessThan(received / 4);
});
