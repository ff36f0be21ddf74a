import { z } from "zod";
import { envSchemas, parseEnv } from "@spam/service-runtime";

export const gatewayEnvShape = {
  GATEWAY_ID: z.string().min(1).max(64).default("gw-1"),
  SMPP_HOST: z.string().default("127.0.0.1"),
  SMPP_PORT: z.coerce.number().int().min(0).max(65_535).default(2775),
  /** Accounts as `system_id:password` pairs, comma-separated. */
  SMPP_ACCOUNTS: z
    .string()
    .min(1)
    .transform((s, ctx) => {
      const accounts = new Map<string, string>();
      for (const pair of s.split(",")) {
        const i = pair.indexOf(":");
        if (i <= 0) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: "expected system_id:password[,system_id:password…]" });
          return z.NEVER;
        }
        accounts.set(pair.slice(0, i).trim(), pair.slice(i + 1));
      }
      return accounts;
    }),
  KAFKA_BROKERS: envSchemas.brokers,
  TOPIC_PREFIX: z.string().default(""),
  LOG_LEVEL: envSchemas.logLevel.default("info"),
};

export type GatewayEnv = ReturnType<typeof loadGatewayEnv>;

export function loadGatewayEnv(env: NodeJS.ProcessEnv = process.env) {
  return parseEnv(gatewayEnvShape, env);
}
