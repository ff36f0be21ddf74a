import type { Logger } from "pino";

/**
 * A child logger carrying `messageId`, the field every service logs so one
 * message can be followed across gateway → scorer → decider → sink.
 */
export function messageLogger(logger: Logger, messageId: string): Logger {
  return logger.child({ messageId });
}
