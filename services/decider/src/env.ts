import { z } from "zod";
import { envSchemas, parseEnv } from "@spam/service-runtime";

export const deciderEnvShape = {
  KAFKA_BROKERS: envSchemas.brokers,
  TOPIC_PREFIX: z.string().default(""),
  CONSUMER_GROUP: z.string().min(1).default("decider"),
  /** Review labels are read by every instance (its own group); each acts on the cases it owns. */
  INSTANCE_ID: z.string().regex(/^[A-Za-z0-9_.-]+$/).default("0"),
  CLICKHOUSE_URL: z.string().url(),
  CLICKHOUSE_DATABASE: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default("spam"),
  POLICY_FILE: z.string().optional(),
  REPLY_TEMPLATES: z.string().optional(),
  LOG_LEVEL: envSchemas.logLevel.default("info"),
  /** /healthz, /readyz, /metrics; 0 = off. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65_535).default(0),
};

export function loadDeciderEnv(env: NodeJS.ProcessEnv = process.env) {
  return parseEnv(deciderEnvShape, env);
}
export type DeciderEnv = ReturnType<typeof loadDeciderEnv>;
