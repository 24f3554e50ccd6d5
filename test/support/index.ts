// Local stand-ins for integration tests: each starts a real service on a random localhost port.

export { type SqsStandIn, startSqs } from '../../local/stand-ins/sqs.ts';
export { type ConsumedMessage, type KafkaMock, startKafkaMock } from './kafka.ts';
