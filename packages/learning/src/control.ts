import { topicNames, type ModelControl } from "@spam/contracts";
import { BatchingProducer, createKafkaClient } from "@spam/kafka";
import type { Logger } from "pino";
import type { RegistryState } from "./registry.js";

/** The command that makes every scorer load the registry's live and shadow versions. */
export function modelControlFor(state: RegistryState, by: string, now = Date.now()): ModelControl | null {
  if (state.live === null) return null;
  return { v: 1, command: "models", live: state.live, shadow: state.shadow, requestedAt: now, requestedBy: by.slice(0, 128) };
}

/** Publishes a model command on the control topic (compacted: the latest per key stays). */
export async function publishModelControl(options: { brokers: readonly string[]; topicPrefix: string; command: ModelControl; logger: Logger }): Promise<void> {
  const kafka = createKafkaClient({ brokers: options.brokers, clientId: "spam-cli", logger: options.logger, retries: 3 });
  const producer = new BatchingProducer({ kafka, logger: options.logger, lingerMs: 0 });
  await producer.connect();
  try {
    await producer.sendMany([{ topic: topicNames(options.topicPrefix).rulesControl, key: "models", value: options.command }]);
  } finally {
    await producer.disconnect();
  }
}
