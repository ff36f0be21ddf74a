import pino, { type Logger } from "pino";
import { LOG_REDACTION } from "@spam/privacy";

/**
 * The one way a service makes its logger: numbers masked, message texts and credentials replaced
 * (@spam/privacy's redaction), so no log line carries a subscriber's full number.
 */
export function createServiceLogger(service: string, level: string): Logger {
  return pino({ name: service, level, base: { service, pid: process.pid }, redact: LOG_REDACTION });
}
