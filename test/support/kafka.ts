// librdkafka's mock Kafka cluster, run by Debian's kcat: a real Kafka protocol endpoint on a random
// localhost port. Topics are created on first use only (4 partitions); there is no admin API.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

export interface KafkaMock {
  /** `['127.0.0.1:PORT']`, the bootstrap broker. */
  brokers: string[];
  /** Reads a topic from the beginning until `count` messages arrived; rejects after `timeoutMs` with fewer. */
  consume(topic: string, count: number, options?: { timeoutMs?: number }): Promise<ConsumedMessage[]>;
  /** Every message now on the topic, from the beginning. */
  consumeAll(topic: string): Promise<ConsumedMessage[]>;
  close(): Promise<void>;
}

const KCAT_MISSING =
  'kcat is not installed: the Kafka result tests run against librdkafka’s mock cluster that kcat provides. ' +
  'Install it with `apt-get install -y kcat` (CI does so in .ci/run).';

/** Consumer settings that make kcat return as soon as the data is there. */
const FAST_FETCH = ['-X', 'fetch.wait.max.ms=10', '-X', 'fetch.error.backoff.ms=10'];

/**
 * Starts librdkafka's mock cluster (one broker) inside a kcat consumer that stays alive until `close()`.
 * The mock prints its bootstrap address in its `-d mock` log, which goes to a file: that log grows with
 * every request, and a pipe that the test process stops reading (a synchronous child process, a busy
 * loop) would stall the cluster. kcat dies with the test process, as the shell that runs it kills it
 * when the test's pipe closes. Fails loudly when kcat is missing.
 *
 * @example
 * const kafka = await startKafkaMock();
 * const publisher = createKafkaPublisher({ brokers: kafka.brokers, resultTopic: 'results', auth: 'none' });
 * await publisher.publish(outcomes);
 * const messages = await kafka.consume('results', outcomes.length);
 * await kafka.close();
 */
export async function startKafkaMock(): Promise<KafkaMock> {
  if (spawnSync('kcat', ['-V']).error) throw new Error(KCAT_MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'kafka-mock-'));
  const log = join(dir, 'kcat.log');
  const args = '-b unused:9092 -X test.mock.num.brokers=1 -d mock -C -t mock-keepalive -q'.split(' ');
  const cluster = spawn(
    'sh',
    ['-c', 'kcat "$@" 2>"$KCAT_LOG" & pid=$!; read -r _; kill $pid 2>/dev/null; wait $pid', 'sh', ...args],
    { stdio: ['pipe', 'ignore', 'ignore'], env: { ...process.env, KCAT_LOG: log } },
  );
  const exited = new Promise<void>((resolve) => cluster.once('exit', () => resolve()));
  async function stop() {
    cluster.stdin?.end();
    const timer = setTimeout(() => cluster.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
    rmSync(dir, { recursive: true, force: true });
  }
  let bootstrap: string;
  try {
    bootstrap = await bootstrapOf(cluster, log);
  } catch (error) {
    await stop();
    throw error;
  }
  const brokers = [bootstrap];

  function run(args: string[], timeoutMs: number, expected?: number): Promise<ConsumedMessage[]> {
    return new Promise((resolve, reject) => {
      const kcat = spawn(
        'kcat',
        ['-b', bootstrap, ...FAST_FETCH, '-C', '-J', '-q', '-o', 'beginning', ...args],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      kcat.stdout.on('data', (d) => {
        out += d;
      });
      kcat.stderr.on('data', (d) => {
        err += d;
      });
      const timer = setTimeout(() => kcat.kill(), timeoutMs);
      kcat.on('close', (code, signal) => {
        clearTimeout(timer);
        const messages = out.split('\n').filter(Boolean).map(parse);
        if (signal || code !== 0) {
          const found =
            expected === undefined
              ? ''
              : ` (${messages.length} of ${expected} messages within ${timeoutMs} ms)`;
          reject(new Error(`kcat ${args.join(' ')} failed${found}: ${err.trim() || signal || code}`));
        } else resolve(messages);
      });
    });
  }

  return {
    brokers,
    consume: (topic, count, { timeoutMs = 5_000 } = {}) =>
      run(['-t', topic, '-c', String(count)], timeoutMs, count),
    consumeAll: (topic) => run(['-t', topic, '-e'], 5_000),
    close: stop,
  };
}

async function bootstrapOf(cluster: ChildProcess, log: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  let text = '';
  while (Date.now() < deadline && cluster.exitCode === null) {
    text = readLog(log);
    const match = /Mock cluster \S+ bootstrap\.servers=(\S+)/.exec(text);
    if (match) return match[1]!;
    await sleep(20);
  }
  const why =
    cluster.exitCode === null
      ? 'it did not print its address within 10 s'
      : `kcat exited (${cluster.exitCode})`;
  throw new Error(
    `librdkafka's mock cluster did not start: ${why}. kcat said: ${text.slice(0, 2_000).trim()}`,
  );
}

function readLog(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function parse(line: string): ConsumedMessage {
  const m = JSON.parse(line) as {
    topic: string;
    partition: number;
    offset: number;
    key: string | null;
    payload: string | null;
    headers?: string[];
  };
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < (m.headers?.length ?? 0); i += 2) headers[m.headers![i]!] = m.headers![i + 1]!;
  return { topic: m.topic, partition: m.partition, offset: m.offset, key: m.key, value: m.payload, headers };
}
