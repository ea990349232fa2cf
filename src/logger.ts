import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths pino blanks out in every log line. Credentials never reach a logger on purpose; this is
 * the second line of defence for headers and config objects logged whole.
 */
const REDACTED_PATHS = [
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  '*.apiKey',
  '*.token',
  '*.clientSecret',
  '*.cursorSecret',
  '*.signingKey',
  '*.signingKeyPem',
  '*.password',
  'authorization',
];

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** pino level (`trace` … `fatal`, or `silent`); default `info`. */
  level?: string;
  /** Where lines go; default stdout. Tests pass a stream to capture lines. */
  destination?: DestinationStream;
}

/** A JSON-lines logger with credential redaction. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: undefined,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    options.destination,
  );
}

/**
 * Makes text from outside (upstream messages, client input) safe for one log line: CR/LF and
 * other control characters cannot fake a second line, and the length is bounded.
 */
export function sanitizeForLog(text: string, maxLength = 300): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return flat.length > maxLength ? `${flat.slice(0, maxLength)}…` : flat;
}
