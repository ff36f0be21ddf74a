import pino from "pino";
import type { DecisionEvent } from "@spam/contracts";
import { BatchingProducer, createKafkaClient } from "@spam/kafka";
import type { PgDatabase } from "@spam/api-service/testing";
import { demoSmppAccountsEnv, freePort } from "@spam/infra-local";
import { testPgDatabase } from "./postgres.js";
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

/** The whole pipeline as real processes on a private stack: what a journey through gateway, decider and console needs. */
export interface Pipeline {
  readonly stack: TestStack;
  readonly pgdb: PgDatabase;
  readonly smppPort: number;
  readonly apiUrl: string;
  readonly services: ServiceProcess[];
  /** Stops every service (the exit codes are returned: each must be 0), then the stack and the database. */
  stop(): Promise<Array<number | null>>;
}

export interface PipelineOptions {
  /** Reporters' keyed-hash key, for seeding a reporter's history. */
  readonly reporterHashKey: string;
  readonly gatewayEnv?: Record<string, string>;
  readonly scorerEnv?: Record<string, string>;
  /** Runs after the stack and the database exist, before the services start (seeding, users). */
  readonly before?: (stack: TestStack, pgdb: PgDatabase) => Promise<void>;
}

/** Gateway (the demo SMPP accounts), scorer, sink, decider and api as real processes. */
export async function startPipeline(name: string, o: PipelineOptions): Promise<Pipeline> {
  const stack = await createTestStack(name);
  const pgdb = testPgDatabase(name);
  await o.before?.(stack, pgdb);
  const smppPort = await freePort();
  const env = stack.serviceEnv;
  const services = [
    startServiceProcess("gateway", { ...env, GATEWAY_ID: `gw-${name}`, SMPP_PORT: String(smppPort), SMPP_ACCOUNTS: demoSmppAccountsEnv(), REPORTER_HASH_KEY: o.reporterHashKey, METRICS_PORT: "0", ...o.gatewayEnv }),
    startServiceProcess("scorer", { ...env, CONSUMER_GROUP: `${stack.prefix}scorer`, METRICS_PORT: "0", ...o.scorerEnv }),
    startServiceProcess("sink", { ...env, CONSUMER_GROUP: `${stack.prefix}sink`, SINK_FETCH_MAX_WAIT_MS: "100", METRICS_PORT: "0" }),
    startServiceProcess("decider", { ...env, CONSUMER_GROUP: `${stack.prefix}decider`, CAMPAIGN_COUNTS_INTERVAL_MS: "0", METRICS_PORT: "0" }),
    startServiceProcess("api", { ...env, API_PORT: "0", DATABASE_URL: pgdb.url, CONSUMER_GROUP: "api-case-intake", API_DEMO_PASSWORD: "" }),
  ];
  await Promise.all(services.slice(0, -1).map((s) => s.waitForLog((e) => e.msg === "started", 90_000)));
  const apiUrl = String((await services.at(-1)!.waitForLog((e) => e.msg === "api listening" && typeof e.url === "string", 90_000)).url);
  return {
    stack,
    pgdb,
    smppPort,
    apiUrl,
    services,
    async stop() {
      const codes = await Promise.all(services.map((s) => s.stop().catch(() => null)));
      await stack.dispose();
      await pgdb.drop().catch(() => undefined);
      return codes;
    },
  };
}
