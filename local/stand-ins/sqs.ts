// local-aws-sqs in-process: a real SQS API (JSON protocol) on a random localhost port.
import type { AddressInfo } from 'node:net';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';

export interface SqsStandIn {
  /** `http://127.0.0.1:PORT`, for an SQSClient's `endpoint`. */
  endpoint: string;
  /** A client pointed at the stand-in (region us-east-1, dummy credentials). */
  client: SQSClient;
  /** Another such client, e.g. to add middleware without affecting `client`; destroy it when done. */
  createClient(): SQSClient;
  /** Creates a queue and returns its URL; a name ending in `.fifo` makes a FIFO queue. */
  createQueue(name: string, attributes?: Record<string, string>): Promise<string>;
  /** How many messages the queue holds (visible ones). */
  depth(queueUrl: string): Promise<number>;
  /** Receives and deletes every message now in the queue, attributes included. */
  receiveAll(queueUrl: string): Promise<Message[]>;
  close(): Promise<void>;
}

/**
 * Starts local-aws-sqs on a random port. Queues can be recreated under the same name at once
 * (`emulateQueueCreationLifecycle: false`).
 *
 * @example
 * const sqs = await startSqs();
 * const url = await sqs.createQueue('results');
 * await sqs.client.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{}' }));
 * expect(await sqs.receiveAll(url)).toHaveLength(1);
 * await sqs.close();
 */
export async function startSqs(): Promise<SqsStandIn> {
  const server = await createSqsServer({
    port: 0,
    hostname: '127.0.0.1',
    emulateQueueCreationLifecycle: false,
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const createClient = () =>
    new SQSClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
  const client = createClient();
  return {
    endpoint,
    client,
    createClient,
    async createQueue(name, attributes = {}) {
      const fifo = name.endsWith('.fifo') ? { FifoQueue: 'true' } : {};
      const { QueueUrl } = await client.send(
        new CreateQueueCommand({ QueueName: name, Attributes: { ...fifo, ...attributes } }),
      );
      return QueueUrl!;
    },
    async depth(queueUrl) {
      const response = await client.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      return Number(response.Attributes?.ApproximateNumberOfMessages ?? 0);
    },
    async receiveAll(queueUrl) {
      const received: Message[] = [];
      for (;;) {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            VisibilityTimeout: 60,
            MessageAttributeNames: ['All'],
            MessageSystemAttributeNames: ['All'],
            // local-aws-sqs answers only the older parameter (MessageGroupId, MessageDeduplicationId …).
            AttributeNames: ['All'],
          }),
        );
        if (Messages.length === 0) return received;
        received.push(...Messages);
        await client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
    },
    async close() {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
