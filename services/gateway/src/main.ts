import type { Logger } from "pino";
import { topicNames } from "@spam/contracts";
import { BatchingProducer, createKafkaClient } from "@spam/kafka";
import { createServiceLogger, loadEnvOrExit, runService, type ServiceHandle } from "@spam/service-runtime";
import { loadGatewayEnv, type GatewayEnv } from "./env.js";
import { GatewaySmppServer } from "./smpp-server.js";

export interface Gateway extends ServiceHandle {
  readonly smpp: GatewaySmppServer;
}

/** Composition root: builds the gateway's parts by hand; `start`/`stop` own their lifecycle. */
export function createGateway(env: GatewayEnv, logger: Logger): Gateway {
  const topics = topicNames(env.TOPIC_PREFIX);
  const kafka = createKafkaClient({ brokers: env.KAFKA_BROKERS, clientId: `gateway-${env.GATEWAY_ID}`, logger });
  const producer = new BatchingProducer({ kafka, logger, lingerMs: 2 });
  const smpp = new GatewaySmppServer({
    host: env.SMPP_HOST,
    port: env.SMPP_PORT,
    gatewayId: env.GATEWAY_ID,
    accounts: env.SMPP_ACCOUNTS,
    logger,
    publish: (message) => producer.send({ topic: topics.trafficRaw, key: message.source, value: message }),
  });
  return {
    smpp,
    async start() {
      await producer.connect();
      await smpp.listen();
      logger.info({ port: smpp.address.port }, "SMPP listening");
    },
    async stop() {
      // Stop taking messages first, then wait for every accepted one to reach Kafka.
      await smpp.close();
      await producer.disconnect();
    },
  };
}

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const env = loadEnvOrExit("gateway", () => loadGatewayEnv());
  const logger = createServiceLogger("gateway", env.LOG_LEVEL);
  runService("gateway", logger, () => createGateway(env, logger));
}
