export { CONFIG_ENV, loadConfigFile, loadConfigFromEnv, parseConfig, parseConfigText } from './load.ts';
export {
  API_NAME,
  configSchema,
  type Mode,
  OPERATIONS,
  type Operation,
  type SinkConfig,
  type SinkConfigInput,
  type TopicMapping,
} from './schema.ts';
