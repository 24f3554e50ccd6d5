/**
 * The logging the sink and the bulk poller need: structured lines with attributes. Powertools' Logger
 * satisfies it; tests pass a collector. Attributes carry coordinates, codes and counts, never record values or secrets.
 */
export interface SinkLogger {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

export const silentLogger: SinkLogger = { debug() {}, info() {}, warn() {}, error() {} };
