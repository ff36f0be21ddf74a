import { z } from "zod";
import { envSchemas, parseEnv } from "@spam/service-runtime";

/** `npm start` and benchmarks: the stub as a process of its own (a local stand-in for the operator's SMSC). */
const smscStubEnvShape = {
  SMSC_STUB_HOST: z.string().default("127.0.0.1"),
  SMSC_STUB_PORT: z.coerce.number().int().min(0).max(65_535).default(2776),
  SMSC_STUB_SYSTEM_ID: z.string().min(1).max(15).optional(),
  SMSC_STUB_PASSWORD: z.string().min(1).max(8).optional(),
  SMSC_STUB_RECEIPT_DELAY_MS: z.coerce.number().int().min(0).default(5),
  LOG_LEVEL: envSchemas.logLevel.default("info"),
};

export const loadSmscStubEnv = (env: NodeJS.ProcessEnv = process.env) => parseEnv(smscStubEnvShape, env);
