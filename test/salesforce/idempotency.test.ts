// Lost responses: a call that may have been applied is resent only when resending is harmless.
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { createJsforceSend, type Send } from '../../lib/salesforce/http.ts';
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

function seed(n: number): string[] {
  return emu.org
    .apply(
      'insert',
      'Lead',
      Array.from({ length: n }, (_, i) => ({ LastName: `Seed${i}`, Company: 'Acme', CustomId__c: `S-${i}` })),
      { allOrNone: false, source: 'json' },
    )
    .map((r) => r.id!);
}

test('an insert whose connection is reset after the emulator applied it is not resent blindly', async () => {
  emu.faults.add({ route: 'collections', fault: 'reset', when: 'after' });
  const { client } = testClient(emu);
  const unit = units(
    [
      { LastName: 'A', Company: 'Acme' },
      { LastName: 'B', Company: 'Acme' },
    ],
    { sobject: 'Lead', operation: 'insert' },
  )[0]!;

  const results = await client.writeUnit(unit, deadlineIn());

  for (const r of results) {
    expect(r).toMatchObject({ status: 'failed', retryable: true, attempts: 1 });
    expect(r.errors[0]!.code).toBe('RESPONSE_LOST');
  }
  expect(callsOf(emu, 'collections')).toHaveLength(1);
  expect(emu.org.list('Lead').map((r) => r.fields.LastName)).toEqual(['A', 'B']);
});

test('a 502 on an insert is treated as a lost response too (a gateway may have lost an applied call)', async () => {
  emu.faults.add({ route: 'collections', fault: 'status', status: 502, when: 'after' });
  const { client } = testClient(emu);
  const [result] = await client.writeUnit(
    units([{ LastName: 'A', Company: 'Acme' }], { sobject: 'Lead', operation: 'insert' })[0]!,
    deadlineIn(),
  );
  expect(result!.errors[0]!.code).toBe('RESPONSE_LOST');
  expect(result!.errors[0]!.message).toContain('HTTP 502');
  expect(emu.org.list('Lead')).toHaveLength(1);
});

test('a reset before apply on an idempotent update is retried and succeeds', async () => {
  const [id] = seed(1);
  emu.faults.add({ route: 'collections', fault: 'reset', when: 'before' });
  const { client, sleeps } = testClient(emu);

  const [result] = await client.writeUnit(
    units([{ Id: id!, Title: 'Chief' }], { sobject: 'Lead', operation: 'update' })[0]!,
    deadlineIn(),
  );

  expect(result).toMatchObject({ status: 'succeeded', salesforceId: id, attempts: 2 });
  expect(sleeps).toHaveLength(1);
  expect(callsOf(emu, 'collections').map((c) => c.status)).toEqual([0, 200]);
  expect(emu.org.get(id!)!.fields.Title).toBe('Chief');
});

test('a delete whose first response was lost reports success when the replay finds it already deleted', async () => {
  const [id] = seed(1);
  emu.faults.add({ route: 'collections', fault: 'reset', when: 'after' });
  const { client } = testClient(emu);

  const [result] = await client.writeUnit(
    units([{ Id: id! }], { sobject: 'Lead', operation: 'delete' })[0]!,
    deadlineIn(),
  );

  expect(result).toMatchObject({ status: 'succeeded', salesforceId: id, attempts: 2 });
  expect(emu.org.get(id!)!.deleted).toBe(true);
});

test('an upsert (idempotent) is replayed after a reset and the record exists once', async () => {
  emu.faults.add({ route: 'collections', fault: 'reset', when: 'after' });
  const { client } = testClient(emu);

  const [result] = await client.writeUnit(
    units([{ CustomId__c: 'U-1', LastName: 'Up', Company: 'Acme' }], {
      sobject: 'Lead',
      operation: 'upsert',
      externalIdField: 'CustomId__c',
    })[0]!,
    deadlineIn(),
  );

  expect(result).toMatchObject({ status: 'succeeded', attempts: 2 });
  expect(emu.org.findBy('Lead', 'CustomId__c', 'U-1')).toHaveLength(1);
});

test('an insert answered 200 with a body that cannot be read is a lost response, not a retryable failure', async () => {
  const real = createJsforceSend();
  const send: Send = async (request, timeout) => {
    const response = await real(request, timeout);
    return request.url.includes('/composite/') ? { ...response, body: '<html>proxy page</html>' } : response;
  };
  const { client } = testClient(emu, { send });

  const [result] = await client.writeUnit(
    units([{ LastName: 'A', Company: 'Acme' }], { sobject: 'Lead', operation: 'insert' })[0]!,
    deadlineIn(),
  );

  expect(result).toMatchObject({ status: 'failed', retryable: true });
  expect(result!.errors[0]!.code).toBe('RESPONSE_LOST');
  expect(emu.org.list('Lead')).toHaveLength(1);
});
