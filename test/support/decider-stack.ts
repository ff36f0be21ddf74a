import pino from "pino";
import type { DecisionEvent } from "@spam/contracts";
import { BatchingProducer, createKafkaClient } from "@spam/kafka";
import { startServiceProcess, type ServiceProcess } from "./services.js";
import { createTestStack, type TestStack } from "./stack.js";

/**
 * The sink and the decider as real processes on a private stack, a producer to feed them and every
 * decision event they publish, collected: what a probe of the decider's policy needs.
 */
export interface DeciderStack {
  readonly stack: TestStack;
  readonly producer: BatchingProducer;
  readonly events: DecisionEvent[];
  /** Stops the services (each must exit 0: the exit codes are returned) and the clients. */
  stop(): Promise<Array<number | null>>;
}

export async function startDeciderStack(name: string, deciderEnv: Record<string, string> = {}): Promise<DeciderStack> {
  const stack = await createTestStack(name);
  const logger = pino({ level: "silent" });
  const kafka = createKafkaClient({ brokers: stack.brokers.split(","), clientId: name, logger });
  const producer = new BatchingProducer({ kafka, logger, lingerMs: 2 });
  await producer.connect();
  const events: DecisionEvent[] = [];
  const watcher = kafka.consumer({ groupId: `${stack.prefix}watch`, maxWaitTimeInMs: 50 });
  await watcher.connect();
  await watcher.subscribe({ topic: stack.topics.decisions, fromBeginning: true });
  await watcher.run({ eachMessage: async ({ message }) => void events.push(JSON.parse(message.value!.toString()) as DecisionEvent) });
  const services: ServiceProcess[] = [
    startServiceProcess("sink", { ...stack.serviceEnv, CONSUMER_GROUP: `${stack.prefix}sink`, SINK_FETCH_MAX_WAIT_MS: "100", METRICS_PORT: "0" }),
    startServiceProcess("decider", { ...stack.serviceEnv, CONSUMER_GROUP: `${stack.prefix}decider`, CAMPAIGN_COUNTS_INTERVAL_MS: "0", METRICS_PORT: "0", ...deciderEnv }),
  ];
  await Promise.all(services.map((s) => s.waitForLog((e) => e.msg === "started", 90_000)));
  return {
    stack,
    producer,
    events,
    async stop() {
      const codes = await Promise.all(services.map((s) => s.stop().catch(() => null)));
      await watcher.disconnect();
      await producer.disconnect();
      await stack.dispose();
      return codes;
    },
  };
}
