// Egress through an HTTP(S) proxy: the sink (the embedded runtime, the real client) runs against the
// emulator through a forwarding proxy written here, which requires credentials. Every request the
// emulator saw, token, REST, bulk upload and result download, must have come through the proxy, and
// the proxy's password must appear in no log line and no outcome.
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../lib/config/index.ts';
import { proxyFor, proxySecrets } from '../../lib/salesforce/http.ts';
import { mskEvent } from '../../local/events/build-event.ts';
import { startEmbedded } from '../../local/runtime/embedded.ts';

const USER = 'sink';
const PASSWORD = 'pr0xy-s3cret';

interface ForwardingProxy {
  url: string;
  seen: { method: string; path: string }[];
  refused: number;
  close(): void;
}

/** Forwards absolute-form requests (http targets) and CONNECT tunnels (https), after Basic auth. */
async function startProxy(): Promise<ForwardingProxy> {
  const seen: { method: string; path: string }[] = [];
  let refused = 0;
  const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  const authorized = (request: IncomingMessage) => request.headers['proxy-authorization'] === expected;
  const server: Server = createServer((request, response) => {
    if (!authorized(request)) {
      refused += 1;
      response.writeHead(407, { 'proxy-authenticate': 'Basic realm="sfsink"' }).end();
      return;
    }
    const target = new URL(request.url!);
    seen.push({ method: request.method!, path: `${target.pathname}${target.search}` });
    const { 'proxy-authorization': _auth, 'proxy-connection': _pc, ...headers } = request.headers;
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: request.method,
        path: `${target.pathname}${target.search}`,
        headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.destroy());
    request.pipe(upstream);
  });
  server.on('connect', (request, socket, head) => {
    if (!authorized(request)) {
      refused += 1;
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      return;
    }
    const [host, port] = request.url!.split(':');
    seen.push({ method: 'CONNECT', path: request.url! });
    const upstream = connect(Number(port), host!, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${USER}:${PASSWORD}@127.0.0.1:${port}`,
    seen,
    get refused() {
      return refused;
    },
    close: () => server.close(),
  };
}

let proxy: ForwardingProxy;
beforeAll(async () => {
  proxy = await startProxy();
});
afterAll(() => proxy?.close());

describe('Salesforce through an HTTP proxy (proxyUrl)', () => {
  it('sends every request through the proxy — token, describe, Collections, bulk upload and result download — and never logs its password', async () => {
    const lines: string[] = [];
    const record = (level: string) => (message: string, attributes?: Record<string, unknown>) => {
      lines.push(`${level} ${message} ${JSON.stringify(attributes ?? {})}`);
    };
    const config = parseConfig({
      proxyUrl: proxy.url,
      bulk: { pollInterval: '0s', maxPollInterval: '5s' },
      mappings: [
        { topic: 'leads', sobject: 'Lead', externalIdField: 'CustomId__c', unknownFields: 'ignore' },
        { topic: 'orders', sobject: 'Lead', operation: 'insert', mode: 'bulk', eventType: 'override' },
      ],
    });
    const sink = await startEmbedded({
      config,
      waitMs: 1,
      logger: { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') },
    });
    try {
      await sink.deliver(
        mskEvent([
          {
            topic: 'leads',
            partition: 0,
            offset: 0,
            key: 'a',
            value: { _EventType: 'created', LastName: 'A', Company: 'C', CustomId__c: 'P-1' },
          },
          { topic: 'orders', partition: 0, offset: 0, key: 'o', value: { LastName: 'Bulk', Company: 'C' } },
        ]),
      );
      await sink.settle();
      const outcomes = sink.outcomes.outcomes;
      expect(outcomes.map((o) => o.status)).toEqual(['succeeded', 'succeeded']);

      const calls = sink.emulator!.calls().map((c) => ({ method: c.method, path: c.path }));
      const paths = calls.map((c) => `${c.method} ${c.path.split('?')[0]}`);
      expect(paths).toEqual(
        expect.arrayContaining([
          'POST /services/oauth2/token',
          expect.stringMatching(/^GET \/services\/data\/v[\d.]+\/sobjects\/Lead\/describe$/),
          expect.stringMatching(/^PATCH \/services\/data\/v[\d.]+\/composite\/sobjects\/Lead\/CustomId__c$/),
          expect.stringMatching(/^PUT \/services\/data\/v[\d.]+\/jobs\/ingest\/\w+\/batches$/),
          expect.stringMatching(/^GET \/services\/data\/v[\d.]+\/jobs\/ingest\/\w+\/successfulResults\/?$/),
        ]),
      );
      // Exactly the requests the emulator answered went through the proxy, in the same order.
      expect(proxy.seen).toEqual(calls);
      expect(proxy.refused).toBe(0);
      const everything = JSON.stringify({ lines, outcomes });
      expect(everything).not.toContain(PASSWORD);
    } finally {
      await sink.close();
    }
  });
});

describe('proxyFor', () => {
  const env = {
    HTTPS_PROXY: 'http://corp:3128',
    HTTP_PROXY: 'http://plain:3128',
    NO_PROXY: 'localhost,.internal.example.com,10.1.2.3:8443',
  };

  it('uses proxyUrl first, else HTTPS_PROXY for https and HTTP_PROXY for http, in either case', () => {
    expect(proxyFor('https://acme.my.salesforce.com/x', { env })).toBe('http://corp:3128');
    expect(proxyFor('http://acme.example.com/x', { env })).toBe('http://plain:3128');
    expect(proxyFor('https://acme.my.salesforce.com/x', { proxyUrl: 'http://mine:8080', env })).toBe(
      'http://mine:8080',
    );
    expect(proxyFor('https://acme.my.salesforce.com/x', { env: { https_proxy: 'http://lower:1' } })).toBe(
      'http://lower:1',
    );
    expect(proxyFor('https://acme.my.salesforce.com/x', {})).toBeUndefined();
  });

  it('lets NO_PROXY exempt hosts, domain suffixes and host:port, even from proxyUrl', () => {
    expect(proxyFor('https://localhost/x', { env })).toBeUndefined();
    expect(proxyFor('https://api.internal.example.com/x', { env })).toBeUndefined();
    expect(proxyFor('https://internal.example.com/x', { env })).toBeUndefined();
    expect(proxyFor('https://notinternal.example.com/x', { env })).toBe('http://corp:3128');
    expect(proxyFor('https://10.1.2.3:8443/x', { env })).toBeUndefined();
    expect(proxyFor('https://10.1.2.3/x', { env })).toBe('http://corp:3128');
    expect(proxyFor('https://localhost/x', { proxyUrl: 'http://mine:8080', env })).toBeUndefined();
    expect(proxyFor('https://any.example.com/x', { env: { ...env, NO_PROXY: '*' } })).toBeUndefined();
  });

  it('knows which parts of a proxy URL are secret', () => {
    expect(proxySecrets('http://u:p%40ss@proxy:3128')).toEqual([
      'http://u:p%40ss@proxy:3128',
      'p%40ss',
      'p@ss',
    ]);
    expect(proxySecrets('http://proxy:3128')).toEqual([]);
  });
});
