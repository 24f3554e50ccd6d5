import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mskEvent } from '../../local/events/build-event.ts';
import { mskSample, pushTopicLead } from '../../test/fixtures/index.ts';
import type { KafkaRecord } from '../records.ts';
import { isRejection } from '../records.ts';
import { decodeValue, InvalidEventError, recordsOfEvent } from './index.ts';

function record(value: Buffer | null): KafkaRecord {
  return { topic: 't', partition: 0, offset: 1, timestamp: 0, key: null, headers: [], value };
}

describe('recordsOfEvent', () => {
  it('decodes the MSK sample: coordinates, key, headers and value bytes', () => {
    const [r] = recordsOfEvent(mskSample());
    expect(r).toMatchObject({
      topic: 'sfdc-pushtopic-lead',
      partition: 0,
      offset: 15,
      timestamp: 1670582777000,
    });
    expect(r!.key).toBe('{"Id":"00Q7R00001lsWLiUAM"}');
    expect(r!.headers).toEqual([{ key: 'source', value: 'pushtopic' }]);
    expect(JSON.parse(r!.value!.toString('utf8'))).toMatchObject({
      LastName: 'Doe_28736',
      _EventType: 'created',
    });
  });

  it('flattens several partitions, each in offset order, with keys, headers and tombstones', () => {
    const event = mskEvent([
      { topic: 'leads', partition: 1, offset: 7, key: 'b', value: { n: 2 } },
      { topic: 'leads', partition: 0, offset: 3, key: 'a', value: { n: 1 }, headers: { trace: 'x-1' } },
      { topic: 'leads', partition: 1, offset: 5, key: null, value: null },
    ]);
    const records = recordsOfEvent(event);
    expect(records.map((r) => [r.partition, r.offset, r.key])).toEqual([
      [1, 5, null],
      [1, 7, 'b'],
      [0, 3, 'a'],
    ]);
    expect(records[2]!.headers).toEqual([{ key: 'trace', value: 'x-1' }]);
    expect(records[0]!.value).toBeNull();
  });

  it('throws only for events without a Kafka shape', () => {
    expect(() => recordsOfEvent({} as never)).toThrow(InvalidEventError);
    expect(() =>
      recordsOfEvent({ eventSource: 'aws:kafka', records: { 't-0': [{ topic: 't' }] } } as never),
    ).toThrow(/lacks topic, partition or offset/);
  });
});

describe('decodeValue', () => {
  it('decodes the plain-JSON PushTopic record', () => {
    const decoded = decodeValue(recordsOfEvent(mskSample())[0]!);
    expect(isRejection(decoded)).toBe(false);
    if (!isRejection(decoded))
      expect(decoded.value).toMatchObject({ Id: '00Q7R00001lsWLiUAM', _ObjectType: 'Lead' });
  });

  it('unwraps the Connect envelope of the PushTopic Lead and converts its logical types', () => {
    const { valueEnvelope } = pushTopicLead();
    const decoded = decodeValue(record(Buffer.from(JSON.stringify(valueEnvelope))));
    if (isRejection(decoded)) throw new Error(decoded.message);
    expect(decoded.value.CreatedDate).toBe('2022-12-09T10:46:16.000Z');
    expect(decoded.value.LastModifiedDate).toBe('2022-12-09T10:46:16.000Z');
    expect(decoded.value.ConvertedDate).toBeNull();
    expect(decoded.value.Address).toMatchObject({ City: null });
    expect(decoded.value._EventType).toBe('created');
    expect(Object.keys(decoded.value)).toHaveLength(62);
  });

  it('converts Connect Date (days), Time (ms of day) and Decimal (base64 bytes with scale)', () => {
    const envelope = {
      schema: {
        type: 'struct',
        fields: [
          { field: 'D', type: 'int32', name: 'org.apache.kafka.connect.data.Date' },
          { field: 'T', type: 'int32', name: 'org.apache.kafka.connect.data.Time' },
          {
            field: 'Amount',
            type: 'bytes',
            name: 'org.apache.kafka.connect.data.Decimal',
            parameters: { scale: '2' },
          },
          {
            field: 'Neg',
            type: 'bytes',
            name: 'org.apache.kafka.connect.data.Decimal',
            parameters: { scale: '1' },
          },
        ],
      },
      // 19335 days = 2022-12-09; 37_815_123 ms = 10:30:15.123; 0x3039 = 12345 → 123.45; 0xFF85 = -123 → -12.3
      payload: { D: 19335, T: 37_815_123, Amount: Buffer.from([0x30, 0x39]).toString('base64'), Neg: '/4U=' },
    };
    const decoded = decodeValue(record(Buffer.from(JSON.stringify(envelope))));
    if (isRejection(decoded)) throw new Error(decoded.message);
    expect(decoded.value).toEqual({ D: '2022-12-09', T: '10:30:15.123Z', Amount: 123.45, Neg: -12.3 });
  });

  it.each([
    [Buffer.from('not json'), 'INVALID_JSON'],
    [Buffer.from([0xff, 0xfe, 0x7b]), 'INVALID_JSON'],
    [Buffer.from('[1,2]'), 'NOT_AN_OBJECT'],
    [Buffer.from('"text"'), 'NOT_AN_OBJECT'],
    [Buffer.from('null'), 'NOT_AN_OBJECT'],
    [Buffer.alloc(0), 'EMPTY_VALUE'],
    [null, 'EMPTY_VALUE'],
    [Buffer.from('{"schema":{"type":"struct"},"payload":null}'), 'EMPTY_VALUE'],
    [
      Buffer.from(
        '{"schema":{"type":"struct","fields":[{"field":"D","name":"org.apache.kafka.connect.data.Date"}]},"payload":{"D":"x"}}',
      ),
      'INVALID_JSON',
    ],
  ])('rejects %s with %s and keeps the coordinates', (value, code) => {
    const decoded = decodeValue(record(value));
    expect(isRejection(decoded) && decoded.code).toBe(code);
    expect(isRejection(decoded) && decoded.record).toEqual({
      topic: 't',
      partition: 0,
      offset: 1,
      key: null,
    });
  });

  it('returns a rejection or a record, never throws, for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const decoded = decodeValue(record(Buffer.from(bytes)));
        expect(isRejection(decoded) || typeof decoded.value === 'object').toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws for arbitrary JSON, including envelope look-alikes with malformed schemas', () => {
    const schemaLike = fc.record({
      type: fc.constantFrom('struct', 'array', 'map', 'int64'),
      name: fc.constantFrom(
        'org.apache.kafka.connect.data.Timestamp',
        'org.apache.kafka.connect.data.Decimal',
        'org.apache.kafka.connect.data.Date',
        'x',
      ),
      fields: fc.anything(),
      items: fc.anything(),
      values: fc.anything(),
      parameters: fc.anything(),
    });
    fc.assert(
      fc.property(
        fc.oneof(fc.jsonValue(), fc.record({ schema: schemaLike, payload: fc.jsonValue() })),
        (value) => {
          const decoded = decodeValue(record(Buffer.from(JSON.stringify(value) ?? 'null')));
          expect(isRejection(decoded) || typeof decoded.value === 'object').toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('decodeValue: exact numbers and hostile keys', () => {
  const text = (value: string) => record(Buffer.from(value, 'utf8'));

  it('keeps the digits of integers beyond 2^53 and of numbers out of the double range', () => {
    const decoded = decodeValue(
      text('{"a":9007199254740993,"b":9007199254740992,"c":1e400,"d":0.1,"e":12345678901234567890.5}'),
    );
    if (isRejection(decoded)) throw new Error(decoded.message);
    const { a, b, c, d, e } = decoded.value as Record<string, { rawJSON?: string } | number>;
    expect((a as { rawJSON: string }).rawJSON).toBe('9007199254740993');
    expect(b).toBe(9007199254740992);
    expect((c as { rawJSON: string }).rawJSON).toBe('1e400');
    expect(d).toBe(0.1);
    expect((e as { rawJSON: string }).rawJSON).toBe('12345678901234567890.5');
    expect(JSON.stringify(decoded.value)).toBe(
      '{"a":9007199254740993,"b":9007199254740992,"c":1e400,"d":0.1,"e":12345678901234567890.5}',
    );
  });

  it('a Connect Decimal keeps its exact digits: 123456789012345678 is not …680', () => {
    const bytes = Buffer.from(123456789012345678n.toString(16).padStart(16, '0'), 'hex');
    const decoded = decodeValue(
      text(
        JSON.stringify({
          schema: {
            type: 'struct',
            fields: [
              {
                field: 'Amount',
                type: 'bytes',
                name: 'org.apache.kafka.connect.data.Decimal',
                parameters: { scale: '2' },
              },
            ],
          },
          payload: { Amount: bytes.toString('base64') },
        }),
      ),
    );
    if (isRejection(decoded)) throw new Error(decoded.message);
    expect(JSON.stringify(decoded.value)).toBe('{"Amount":1234567890123456.78}');
  });

  it('__proto__ in a Connect payload is a plain key, exactly as in plain JSON: no hidden Id or _EventType', () => {
    const payload = '{"__proto__":{"Id":"00Q7R00001lsWLiUAM","_EventType":"deleted"},"LastName":"Doe"}';
    const plain = decodeValue(text(payload));
    const envelope = decodeValue(
      text(
        `{"schema":{"type":"struct","fields":[{"field":"LastName","type":"string"}]},"payload":${payload}}`,
      ),
    );
    for (const decoded of [plain, envelope]) {
      if (isRejection(decoded)) throw new Error(decoded.message);
      expect(Object.hasOwn(decoded.value, '__proto__')).toBe(true);
      expect(Object.keys(decoded.value)).toEqual(['__proto__', 'LastName']);
      expect((decoded.value as Record<string, unknown>).Id).toBeUndefined();
      expect((decoded.value as Record<string, unknown>)._EventType).toBeUndefined();
    }
  });

  it.each([
    ['Timestamp', 'int64', 'org.apache.kafka.connect.data.Timestamp', 1e17],
    ['Date', 'int32', 'org.apache.kafka.connect.data.Date', 1_704_067_200_000],
    ['Time', 'int32', 'org.apache.kafka.connect.data.Time', 90_000_000],
  ])(
    'a Connect %s outside Salesforce’s range is rejected INVALID_FIELD_VALUE, never thrown',
    (_, type, name, value) => {
      const decoded = decodeValue(
        text(
          JSON.stringify({
            schema: { type: 'struct', fields: [{ field: 'When', type, name }] },
            payload: { When: value },
          }),
        ),
      );
      expect(isRejection(decoded) && [decoded.code, decoded.fields]).toEqual([
        'INVALID_FIELD_VALUE',
        ['When'],
      ]);
    },
  );
});
