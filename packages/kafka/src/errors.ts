export type KafkaModuleErrorCode = "queue_full" | "not_connected" | "closed" | "send_failed" | "topics_not_ready";

export class KafkaModuleError extends Error {
  override readonly name = "KafkaModuleError";
  constructor(
    readonly code: KafkaModuleErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
