// Update and delete addressed by an external id: resolved with one query per unit, never creating.
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import type { Emulator } from '../../local/emulator/server.ts';
import { callsOf, deadlineIn, emulator, testClient, units } from './helpers.ts';

let emu: Emulator;
beforeAll(async () => {
  emu = await emulator();
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => emu.reset());

function seed(records: Array<Record<string, string>>): string[] {
  return emu.org
    .apply(
      'insert',
      'Lead',
      records.map((r) => ({ Company: 'Acme', ...r })),
      { allOrNone: false, source: 'json' },
    )
    .map((r) => r.id!);
}

const byExternalId = { sobject: 'Lead', externalIdField: 'CustomId__c' };

test('update by external id changes the existing record; a missing one gets NOT_FOUND and is not created', async () => {
  const [id] = seed([{ LastName: 'Doe', CustomId__c: 'X-1' }]);
  const { client } = testClient(emu);
  const unit = units(
    [
      { CustomId__c: 'X-1', Title: 'Changed' },
      { CustomId__c: 'X-404', Title: 'Ghost', LastName: 'Ghost' },
    ],
    { ...byExternalId, operation: 'update' },
  )[0]!;

  const results = await client.writeUnit(unit, deadlineIn());

  expect(results[0]).toMatchObject({ status: 'succeeded', salesforceId: id, attempts: 2 });
  expect(results[1]).toMatchObject({ status: 'failed', retryable: false, attempts: 1 });
  expect(results[1]!.errors).toEqual([
    {
      code: 'NOT_FOUND',
      message: expect.stringContaining('No Lead record has this CustomId__c value'),
      fields: ['CustomId__c'],
    },
  ]);
  expect(emu.org.get(id!)!.fields.Title).toBe('Changed');
  expect(emu.org.list('Lead')).toHaveLength(1);
  expect(callsOf(emu, 'query')).toHaveLength(1);
});

test('delete by external id deletes the existing record; a missing one gets NOT_FOUND', async () => {
  const [id] = seed([{ LastName: 'Doe', CustomId__c: 'D-1' }]);
  const { client } = testClient(emu);
  const unit = units([{ CustomId__c: 'D-1' }, { CustomId__c: 'D-404' }], {
    ...byExternalId,
    operation: 'delete',
  })[0]!;

  const results = await client.writeUnit(unit, deadlineIn());

  expect(results.map((r) => [r.status, r.errors[0]?.code])).toEqual([
    ['succeeded', undefined],
    ['failed', 'NOT_FOUND'],
  ]);
  expect(results[0]!.salesforceId).toBe(id);
  expect(emu.org.get(id!)!.deleted).toBe(true);
  expect(callsOf(emu, 'query')).toHaveLength(1);
});

test('one query per unit: 200 records resolve with a single query', async () => {
  const values = Array.from({ length: 200 }, (_, i) => ({
    LastName: `L${i}`,
    CustomId__c: `EXTERNAL-KEY-${i}`,
  }));
  seed(values);
  const { client } = testClient(emu);
  const unit = units(
    values.map((v) => ({ CustomId__c: v.CustomId__c, Title: 'T' })),
    { ...byExternalId, operation: 'update' },
  )[0]!;

  const results = await client.writeUnit(unit, deadlineIn());

  expect(results.every((r) => r.status === 'succeeded')).toBe(true);
  expect(callsOf(emu, 'query')).toHaveLength(1);
  expect(callsOf(emu, 'collections')).toHaveLength(1);
});

test('values are escaped for SOQL and matched case-insensitively, as Salesforce matches them', async () => {
  const tricky = ["O'Brien", 'back\\slash', 'quote"d', 'MixedCase'];
  const ids = seed(tricky.map((CustomId__c, i) => ({ LastName: `T${i}`, CustomId__c })));
  const { client } = testClient(emu);

  const resolved = await client.resolveIds(
    'Lead',
    'CustomId__c',
    [...tricky.slice(0, 3), 'mixedcase', 'absent'],
    deadlineIn(),
  );

  expect([...resolved.entries()]).toEqual([
    ["O'Brien", ids[0]],
    ['back\\slash', ids[1]],
    ['quote"d', ids[2]],
    ['mixedcase', ids[3]],
  ]);
});

test('many long values are split into queries whose URIs stay under the 16 KB limit', async () => {
  const values = Array.from({ length: 400 }, (_, i) => `${'k'.repeat(100)}-${i}`);
  seed(values.slice(0, 5).map((CustomId__c, i) => ({ LastName: `L${i}`, CustomId__c })));
  const { client } = testClient(emu);

  const resolved = await client.resolveIds('Lead', 'CustomId__c', values, deadlineIn());

  expect(resolved.size).toBe(5);
  const queries = callsOf(emu, 'query');
  expect(queries.length).toBeGreaterThan(1);
  expect(queries.every((q) => q.status === 200 && Buffer.byteLength(q.path) < 16_384 - 2_048)).toBe(true);
});

test('a value that matches several records fails with DUPLICATE_EXTERNAL_ID rather than picking one', async () => {
  seed([
    { LastName: 'A', Email: 'same@example.com' },
    { LastName: 'B', Email: 'same@example.com' },
  ]);
  const { client } = testClient(emu);
  const [result] = await client.writeUnit(
    units([{ Email: 'same@example.com', Title: 'X' }], {
      sobject: 'Lead',
      externalIdField: 'Email',
      operation: 'update',
    })[0]!,
    deadlineIn(),
  );
  expect(result!.errors[0]!.code).toBe('DUPLICATE_EXTERNAL_ID');
  expect(callsOf(emu, 'collections')).toHaveLength(0);
});

test('allOrNone: one missing record fails the whole unit without writing anything', async () => {
  seed([{ LastName: 'Doe', CustomId__c: 'A-1' }]);
  const { client } = testClient(emu);
  const results = await client.writeUnit(
    units(
      [
        { CustomId__c: 'A-1', Title: 'X' },
        { CustomId__c: 'A-404', Title: 'Y' },
      ],
      {
        ...byExternalId,
        operation: 'update',
        allOrNone: true,
      },
    )[0]!,
    deadlineIn(),
  );
  expect(results.map((r) => r.errors[0]?.code)).toEqual(['ALL_OR_NONE_OPERATION_ROLLED_BACK', 'NOT_FOUND']);
  expect(callsOf(emu, 'collections')).toHaveLength(0);
});
