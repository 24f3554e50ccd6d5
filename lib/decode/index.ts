export { isConnectEnvelope, unwrapConnectEnvelope } from './connect-json.ts';
export {
  decodeValue,
  InvalidEventError,
  type LambdaKafkaEvent,
  type LambdaKafkaRecord,
  recordsOfEvent,
} from './kafka-event.ts';
