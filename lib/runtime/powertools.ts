import type { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import type { SinkLogger } from '../logger.ts';

/**
 * The sink's logger interface over Powertools' Logger (structured JSON lines with the Lambda context).
 *
 * @example
 * const log = sinkLogger(new Logger({ serviceName: 'sfsink' }));
 */
export function sinkLogger(logger: Logger): SinkLogger {
  return {
    debug: (message, attributes = {}) => logger.debug(message, attributes as LogAttributes),
    info: (message, attributes = {}) => logger.info(message, attributes as LogAttributes),
    warn: (message, attributes = {}) => logger.warn(message, attributes as LogAttributes),
    error: (message, attributes = {}) => logger.error(message, attributes as LogAttributes),
  };
}
