import { findErrorBy, GenericError } from "@platformatic/kafka";

export type KafkaModuleErrorCode = "queue_full" | "not_connected" | "closed" | "send_failed" | "topics_not_ready" | "kafka_failed";

export class KafkaModuleError extends Error {
  override readonly name = "KafkaModuleError";
  /** A retry may succeed (a leader election, a coordinator move, a broker restarting). */
  readonly retriable: boolean;
  constructor(
    readonly code: KafkaModuleErrorCode,
    message: string,
    options?: { cause?: unknown; retriable?: boolean },
  ) {
    super(message, options);
    this.retriable = options?.retriable ?? isRetriable(options?.cause);
  }
}

/**
 * Whether the client marks an error (or one it aggregates) as worth retrying: network errors and the
 * broker's "not yet" answers (no leader yet, coordinator loading or moved, rebalance in progress).
 */
export function isRetriable(err: unknown): boolean {
  if (err instanceof KafkaModuleError) return err.retriable;
  if (!(err instanceof Error) || !GenericError.isGenericError(err)) return false;
  return (err as GenericError).canRetry === true || findErrorBy(err, "canRetry", true) !== null;
}
