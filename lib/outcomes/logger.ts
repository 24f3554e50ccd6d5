/** What publishers report besides their result (retries, truncation, fallbacks). Powertools' Logger and `console` fit. */
export interface PublisherLogger {
  warn(message: string, details?: Record<string, unknown>): void;
}

/** Drops every report: the default when no logger is given. */
export const silentLogger: PublisherLogger = { warn() {} };
