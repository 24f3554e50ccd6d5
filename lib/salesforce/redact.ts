// Keeps secrets out of logs and error messages. Two nets: the exact values this process knows to be
// secret (from the credentials, and every access token and assertion it obtains), and patterns that
// catch credential-shaped text it was never told about (Bearer headers, form fields, PEM blocks,
// Salesforce session ids). Anything that leaves the client as text passes through `redact`.

const MASK = '[REDACTED]';
/** Shorter values are not masked by value (they would mask ordinary words); the patterns still apply. */
const MIN_SECRET_LENGTH = 6;

const PATTERNS: Array<[RegExp, (match: string, ...groups: string[]) => string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, () => MASK],
  [/\b(Bearer|OAuth)\s+[A-Za-z0-9!._~+/=-]{16,}/gi, (_match, scheme) => `${scheme} ${MASK}`],
  [
    /\b(access_token|refresh_token|client_secret|password|assertion|session_?id)(["']?\s*[:=]\s*["']?)[^\s"'&,}]+/gi,
    (_match, key, separator) => `${key}${separator}${MASK}`,
  ],
  // Salesforce session ids / access tokens: a 15-18 character org id, '!', then a long opaque tail.
  [/\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._-]{20,}/g, () => MASK],
];

export interface Redactor {
  /** Registers a value that must never appear in output (ignored when too short to mask safely). */
  add(secret: string | undefined): void;
  /** The text with every known secret and every credential-shaped substring masked. */
  redact(text: string): string;
}

/**
 * Creates a redactor that masks registered secret values and credential patterns.
 *
 * @example
 * const redactor = createRedactor(['s3cr3t-value']);
 * redactor.redact('client_secret=s3cr3t-value'); // 'client_secret=[REDACTED]'
 */
export function createRedactor(initial: Iterable<string | undefined> = []): Redactor {
  const secrets = new Set<string>();
  let ordered: string[] = [];
  const add = (secret: string | undefined) => {
    if (!secret || secret.length < MIN_SECRET_LENGTH || secrets.has(secret)) return;
    secrets.add(secret);
    // A private key also leaks line by line (e.g. a PEM body quoted in an error), so mask its lines.
    for (const line of secret.split(/\r?\n/)) {
      const trimmed = line.trim();
      if (trimmed.length >= 16 && !trimmed.startsWith('-----')) secrets.add(trimmed);
    }
    // Longest first, so a secret containing another is masked whole.
    ordered = [...secrets].sort((a, b) => b.length - a.length);
  };
  for (const secret of initial) add(secret);
  return {
    add,
    redact(text) {
      let out = text;
      for (const secret of ordered) {
        if (out.includes(secret)) out = out.split(secret).join(MASK);
        const encoded = encodeURIComponent(secret);
        if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join(MASK);
      }
      for (const [pattern, replace] of PATTERNS)
        out = out.replace(pattern, (match: string, ...groups: string[]) => replace(match, ...groups));
      return out;
    },
  };
}

/** Where the client logs: the Powertools Logger fits, as does `console`. */
export interface SalesforceLogger {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

function scrub(value: unknown, redactor: Redactor, depth: number): unknown {
  if (typeof value === 'string') return redactor.redact(value);
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: redactor.redact(value.message), ...(code ? { code } : {}) };
  }
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrub(v, redactor, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, redactor, depth + 1)]));
}

/**
 * Wraps a logger so every message and attribute passes the redactor first. Without a logger, logs
 * nothing.
 *
 * @example
 * const log = safeLogger(new Logger({ serviceName: 'sink' }), redactor);
 * log.warn('retrying', { status: 503 });
 */
export function safeLogger(logger: SalesforceLogger | undefined, redactor: Redactor): SalesforceLogger {
  const emit = (level: keyof SalesforceLogger) => (message: string, attributes?: Record<string, unknown>) => {
    if (!logger) return;
    const safe = redactor.redact(message);
    if (attributes === undefined) logger[level](safe);
    else logger[level](safe, scrub(attributes, redactor, 0) as Record<string, unknown>);
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
