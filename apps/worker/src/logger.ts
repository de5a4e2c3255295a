/**
 * Structured JSON logs (pino): one line per event that matters to an operator, with ids, refs
 * and counts only. Key material never reaches a log call; as a second line of defence, fields
 * that commonly hold secrets are redacted.
 */
import { type DestinationStream, type Logger, pino } from 'pino';

/** A pino logger writing JSON lines to `destination` (stdout by default). */
export function createLogger(
  options: { level?: string; destination?: DestinationStream } = {},
): Logger {
  return pino(
    {
      name: 'rekey-worker',
      level: options.level ?? process.env.REKEY_LOG_LEVEL ?? 'info',
      base: { pid: process.pid },
      redact: {
        paths: ['*.wrapped', '*.bytes', '*.dek', '*.password', '*.url', '*.connection'],
        censor: '[redacted]',
      },
      // Error objects are reduced to name and code: driver errors may quote query parameters.
      serializers: {
        err: (e: { name?: string; code?: unknown }) => ({ name: e?.name, code: e?.code }),
      },
    },
    options.destination ?? pino.destination(1),
  );
}
