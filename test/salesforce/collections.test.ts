// sObject Collections writes: per-record mapping, lock retries, allOrNone, refused fields.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { JsonObject } from '../../lib/records.ts';
import type { Emulator } from '../../local/emulator/server.ts';
import { CONFIG, callsOf, deadlineIn, emulator, shaped, testClient, units } from './helpers.ts';

let emu: Emulator;
beforeAll(async () => {
  emu = await emulator();
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => emu.reset());

const insertLeads = (values: JsonObject[], allOrNone = false) =>
  units(values, { sobject: 'Lead', operation: 'insert', allOrNone })[0]!;

describe('per-record results', () => {
  test('a unit with 3 bad records out of 200 returns 197 successes and 3 failures with Salesforce codes, in 1 call', async () => {
    const values = Array.from({ length: 200 }, (_, i) => ({
      LastName: `L${i}`,
      Company: 'Acme',
      CustomId__c: `C-${i}`,
    }));
    values[10] = { LastName: 'NoCompany', CustomId__c: 'C-10' } as (typeof values)[number];
    values[99] = { ...values[99]!, LastName: 'x'.repeat(81) };
    values[150] = { ...values[150]!, CustomId__c: 'C-0' };
    const { client } = testClient(emu);

    const results = await client.writeUnit(insertLeads(values), deadlineIn());

    expect(results).toHaveLength(200);
    expect(results.filter((r) => r.status === 'succeeded')).toHaveLength(197);
    expect(results[10]!.errors.map((e) => e.code)).toEqual(['REQUIRED_FIELD_MISSING']);
    expect(results[10]!.errors[0]!.fields).toEqual(['Company']);
    expect(results[99]!.errors.map((e) => e.code)).toEqual(['STRING_TOO_LONG']);
    expect(results[150]!.errors.map((e) => e.code)).toEqual(['DUPLICATE_VALUE']);
    for (const i of [10, 99, 150])
      expect(results[i]).toMatchObject({ status: 'failed', retryable: false, attempts: 1 });
    expect(results[0]).toMatchObject({ status: 'succeeded', created: true, attempts: 1 });
    expect(results[0]!.salesforceId).toMatch(/^00Q/);
    expect(client.callCount()).toBe(1);
    expect(callsOf(emu, 'collections')).toHaveLength(1);
    expect(client.apiUsage()).toEqual({ used: emu.counters.apiCalls, max: 15_000 });
    expect(emu.org.list('Lead')).toHaveLength(197);
  });

  test('upsert reports created true for new records and false for existing ones', async () => {
    emu.org.apply('insert', 'Lead', [{ LastName: 'Old', Company: 'Acme', CustomId__c: 'E-1' }], {
      allOrNone: false,
      source: 'json',
    });
    const { client } = testClient(emu);
    const unit = units(
      [
        { CustomId__c: 'E-1', LastName: 'Updated', Company: 'Acme' },
        { CustomId__c: 'E-2', LastName: 'New', Company: 'Acme' },
      ],
      { sobject: 'Lead', operation: 'upsert', externalIdField: 'CustomId__c' },
    )[0]!;

    const results = await client.writeUnit(unit, deadlineIn());

    expect(results.map((r) => [r.status, r.created])).toEqual([
      ['succeeded', false],
      ['succeeded', true],
    ]);
    expect(emu.org.findBy('Lead', 'CustomId__c', 'E-1')[0]!.fields.LastName).toBe('Updated');
  });
});

describe('UNABLE_TO_LOCK_ROW', () => {
  test('locked records are retried on their own, with backoff, and succeed', async () => {
    emu.faults.add({
      route: 'collections',
      fault: 'lockRow',
      match: { fields: { Company: 'Locked' } },
      times: 4,
    });
    const { client, sleeps } = testClient(emu);
    const values = [
      { LastName: 'A', Company: 'Acme' },
      { LastName: 'B', Company: 'Locked' },
      { LastName: 'C', Company: 'Acme' },
      { LastName: 'D', Company: 'Locked' },
    ];

    const results = await client.writeUnit(insertLeads(values), deadlineIn());

    expect(results.map((r) => [r.status, r.attempts])).toEqual([
      ['succeeded', 1],
      ['succeeded', 3],
      ['succeeded', 1],
      ['succeeded', 3],
    ]);
    expect(sleeps).toEqual([250, 500]);
    expect(callsOf(emu, 'collections')).toHaveLength(3);
    expect(emu.org.list('Lead')).toHaveLength(4);
  });

  test('a lock that outlasts maxRetries fails the record as retryable', async () => {
    emu.faults.add({
      route: 'collections',
      fault: 'lockRow',
      match: { fields: { Company: 'Locked' } },
      times: 'always',
    });
    const { client } = testClient(emu, { config: { ...CONFIG, maxRetries: 2 } });

    const results = await client.writeUnit(
      insertLeads([
        { LastName: 'A', Company: 'Acme' },
        { LastName: 'B', Company: 'Locked' },
      ]),
      deadlineIn(),
    );

    expect(results[0]!.status).toBe('succeeded');
    expect(results[1]).toMatchObject({ status: 'failed', retryable: true, attempts: 3 });
    expect(results[1]!.errors[0]!.code).toBe('UNABLE_TO_LOCK_ROW');
  });
});

describe('allOrNone', () => {
  test('one bad record rolls back the unit: the culprit has its error, the others ALL_OR_NONE_OPERATION_ROLLED_BACK', async () => {
    const { client } = testClient(emu);
    const results = await client.writeUnit(
      insertLeads(
        [{ LastName: 'A', Company: 'Acme' }, { LastName: 'B' }, { LastName: 'C', Company: 'Acme' }],
        true,
      ),
      deadlineIn(),
    );

    expect(results.map((r) => [r.status, r.errors[0]?.code, r.retryable])).toEqual([
      ['failed', 'ALL_OR_NONE_OPERATION_ROLLED_BACK', false],
      ['failed', 'REQUIRED_FIELD_MISSING', false],
      ['failed', 'ALL_OR_NONE_OPERATION_ROLLED_BACK', false],
    ]);
    expect(emu.org.list('Lead')).toHaveLength(0);
  });

  test('a lock in an allOrNone unit resends the whole unit, which then succeeds', async () => {
    emu.faults.add({ route: 'collections', fault: 'lockRow', match: { fields: { LastName: 'B' } } });
    const { client } = testClient(emu);
    const results = await client.writeUnit(
      insertLeads(
        [
          { LastName: 'A', Company: 'Acme' },
          { LastName: 'B', Company: 'Acme' },
        ],
        true,
      ),
      deadlineIn(),
    );
    expect(results.map((r) => [r.status, r.attempts])).toEqual([
      ['succeeded', 2],
      ['succeeded', 2],
    ]);
    expect(emu.org.list('Lead')).toHaveLength(2);
  });
});

describe('fields', () => {
  test('the writable-field filter keeps Id for update and delete and the external id for upsert', async () => {
    const { client } = testClient(emu);
    const schema = await client.schemaOf('Lead', deadlineIn());
    const value = {
      Id: '00Q5E0000000001AAA',
      CustomId__c: 'K-1',
      LastName: 'Doe',
      Company: 'Acme',
      IsConverted: false,
      CreatedDate: '2024-01-01T00:00:00.000Z',
      Name: 'Jane Doe',
    };
    const [update] = shaped([value], { sobject: 'Lead', operation: 'update' }, schema);
    const [remove] = shaped([value], { sobject: 'Lead', operation: 'delete' }, schema);
    const [upsert] = shaped(
      [value],
      { sobject: 'Lead', operation: 'upsert', externalIdField: 'CustomId__c' },
      schema,
    );
    const [insert] = shaped([value], { sobject: 'Lead', operation: 'insert' }, schema);

    expect(Object.keys(update!.fields).sort()).toEqual(['Company', 'CustomId__c', 'Id', 'LastName']);
    expect(remove!.fields).toEqual({ Id: '00Q5E0000000001AAA' });
    expect(Object.keys(upsert!.fields).sort()).toEqual(['Company', 'CustomId__c', 'IsConverted', 'LastName']);
    expect(Object.keys(insert!.fields).sort()).toEqual(['Company', 'CustomId__c', 'IsConverted', 'LastName']);
  });

  test('a field Salesforce refuses with INVALID_FIELD_FOR_INSERT_UPDATE is dropped from that write, the retry succeeds, and the outcome names it', async () => {
    const [id] = emu.org
      .apply('insert', 'Lead', [{ LastName: 'Doe', Company: 'Acme' }], { allOrNone: false, source: 'json' })
      .map((r) => r.id!);
    const { client } = testClient(emu);
    // No schema: the shaping stage cannot know IsConverted is not updateable.
    const first = units([{ Id: id!, Title: 'CEO', IsConverted: true }], {
      sobject: 'Lead',
      operation: 'update',
    })[0]!;

    const [result] = await client.writeUnit(first, deadlineIn());

    expect(result).toMatchObject({ status: 'succeeded', salesforceId: id, attempts: 2 });
    expect(result!.errors).toEqual([
      expect.objectContaining({ code: 'INVALID_FIELD_FOR_INSERT_UPDATE', fields: ['IsConverted'] }),
    ]);
    expect(emu.org.get(id!)!.fields.Title).toBe('CEO');
    expect(callsOf(emu, 'collections')).toHaveLength(2);
  });

  test('a field refused once is left out of that write only: a createable, non-updateable field refused on an updating upsert is written by the next creating upsert', async () => {
    emu.org.apply('insert', 'Lead', [{ LastName: 'Old', Company: 'Acme', CustomId__c: 'R-1' }], {
      allOrNone: false,
      source: 'json',
    });
    const { client } = testClient(emu);
    const upsert = (customId: string) =>
      units([{ CustomId__c: customId, LastName: 'Doe', Company: 'Acme', IsConverted: true }], {
        sobject: 'Lead',
        operation: 'upsert',
        externalIdField: 'CustomId__c',
      })[0]!;

    const [updating] = await client.writeUnit(upsert('R-1'), deadlineIn());
    const [creating] = await client.writeUnit(upsert('R-2'), deadlineIn());

    expect(updating).toMatchObject({ status: 'succeeded', created: false, attempts: 2 });
    expect(updating!.errors.map((e) => [e.code, e.fields])).toEqual([
      ['INVALID_FIELD_FOR_INSERT_UPDATE', ['IsConverted']],
    ]);
    expect(creating).toMatchObject({ status: 'succeeded', created: true, attempts: 1, errors: [] });
    expect(emu.org.findBy('Lead', 'CustomId__c', 'R-2')[0]!.fields.IsConverted).toBe(true);
  });

  test('for inserts only the refused records are resent, so nothing is written twice', async () => {
    const { client } = testClient(emu);
    const results = await client.writeUnit(
      insertLeads([
        { LastName: 'A', Company: 'Acme' },
        { LastName: 'B', Company: 'Acme', Name: 'B B' },
        { LastName: 'C', Company: 'Acme' },
      ]),
      deadlineIn(),
    );
    expect(results.map((r) => [r.status, r.attempts])).toEqual([
      ['succeeded', 1],
      ['succeeded', 2],
      ['succeeded', 1],
    ]);
    expect(
      emu.org
        .list('Lead')
        .map((r) => r.fields.LastName)
        .sort(),
    ).toEqual(['A', 'B', 'C']);
  });

  test('the addressing field is never dropped: an upsert refused on its external id fails instead', async () => {
    const { client } = testClient(emu);
    const [result] = await client.writeUnit(
      units([{ Name: 'Jane', LastName: 'Doe', Company: 'Acme' }], {
        sobject: 'Lead',
        operation: 'upsert',
        externalIdField: 'Name',
      })[0]!,
      deadlineIn(),
    );
    expect(result!.status).toBe('failed');
    expect(result!.errors[0]!.code).toBe('INVALID_FIELD_FOR_INSERT_UPDATE');
    expect(callsOf(emu, 'collections')).toHaveLength(1);
  });
});

describe('whole-request refusals', () => {
  test('one bad value that Salesforce cannot deserialize fails only its record: the call is split until it stands alone, and the 199 others are written', async () => {
    const values: JsonObject[] = Array.from({ length: 200 }, (_, i) => ({
      LastName: `L${i}`,
      Company: 'Acme',
      CustomId__c: `W-${i}`,
    }));
    // No schema: nothing before the call can see that these datetimes are not ones Salesforce reads.
    values[7] = { ...values[7]!, EmailBouncedDate: '2024-01-02T03:04Z' };
    values[150] = { ...values[150]!, EmailBouncedDate: '2024-13-02T03:04:05Z' };
    const { client } = testClient(emu);

    const results = await client.writeUnit(insertLeads(values), deadlineIn());

    expect(results.filter((r) => r.status === 'succeeded')).toHaveLength(198);
    for (const i of [7, 150]) {
      expect(results[i]).toMatchObject({ status: 'failed', retryable: false });
      expect(results[i]!.errors.map((e) => e.code)).toEqual(['JSON_PARSER_ERROR']);
    }
    expect(results[0]).toMatchObject({ status: 'succeeded', attempts: expect.any(Number) });
    expect(emu.org.list('Lead')).toHaveLength(198);
    // Each bad record costs about two calls per halving: 200 → 1 is 8 halvings.
    expect(callsOf(emu, 'collections').length).toBeLessThanOrEqual(1 + 2 * 2 * 8);
  });

  test('a field the org does not know fails its records alone (INVALID_FIELD) and is forgotten by the cached describe', async () => {
    const { client } = testClient(emu);
    const schema = await client.schemaOf('Lead', deadlineIn());
    const stale = {
      ...schema,
      fields: new Map([
        ...schema.fields,
        ['gone__c', { name: 'Gone__c', type: 'string', createable: true, updateable: true }],
      ]),
    };
    const unit = units(
      [
        { LastName: 'A', Company: 'Acme' },
        { LastName: 'B', Company: 'Acme', Gone__c: 'x' },
        { LastName: 'C', Company: 'Acme' },
      ],
      { sobject: 'Lead', operation: 'insert' },
      stale,
    )[0]!;

    const results = await client.writeUnit(unit, deadlineIn());

    expect(results.map((r) => r.status)).toEqual(['succeeded', 'failed', 'succeeded']);
    expect(results[1]!.errors[0]).toMatchObject({ code: 'INVALID_FIELD' });
    expect(emu.org.list('Lead')).toHaveLength(2);
    const cached = await client.schemaOf('Lead', deadlineIn());
    expect(cached.fields.has('gone__c')).toBe(false);
  });

  test('an allOrNone unit is not split: the refusal fails the whole call', async () => {
    const { client } = testClient(emu);
    const results = await client.writeUnit(
      insertLeads(
        [
          { LastName: 'A', Company: 'Acme' },
          { LastName: 'B', Company: 'Acme', NumberOfEmployees: 12.5 },
        ],
        true,
      ),
      deadlineIn(),
    );
    expect(results.map((r) => [r.status, r.errors[0]?.code])).toEqual([
      ['failed', 'JSON_PARSER_ERROR'],
      ['failed', 'JSON_PARSER_ERROR'],
    ]);
    expect(callsOf(emu, 'collections')).toHaveLength(1);
    expect(emu.org.list('Lead')).toHaveLength(0);
  });
});
