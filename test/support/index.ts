// Local stand-ins for integration tests: each starts a real service on a random localhost port.
export { type ConsumedMessage, type KafkaMock, startKafkaMock } from './kafka.ts';
export { type SqsStandIn, startSqs } from './sqs.ts';
