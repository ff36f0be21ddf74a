import { z, type ZodRawShape } from "zod";

export class EnvError extends Error {
  override readonly name = "EnvError";
  constructor(readonly variables: readonly string[], message: string) {
    super(message);
  }
}

/**
 * Parses a service's environment once, at start. A bad or missing variable
 * fails fast with its name, so an operator sees "SMPP_PORT: Expected number"
 * instead of a crash later.
 */
export function parseEnv<S extends ZodRawShape>(shape: S, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<S>> {
  const parsed = z.object(shape).safeParse(env);
  if (!parsed.success) {
    const variables = parsed.error.issues.map((i) => i.path.join("."));
    const details = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new EnvError(variables, `invalid environment: ${details}`);
  }
  return parsed.data;
}

/** Shared env fragments: comma-separated broker lists and booleans written as 0/1/true/false. */
export const envSchemas = {
  brokers: z
    .string()
    .min(1)
    .transform((s) => s.split(",").map((b) => b.trim()).filter((b) => b.length > 0)),
  /** For a service that runs without Kafka when none is given (the API keeps decisions in its outbox). */
  optionalBrokers: z
    .string()
    .default("")
    .transform((s) => s.split(",").map((b) => b.trim()).filter((b) => b.length > 0)),
  bool: z
    .enum(["0", "1", "true", "false"])
    .transform((s) => s === "1" || s === "true"),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
  /** Where /healthz, /readyz and /metrics listen: loopback unless a scraper elsewhere must reach them. */
  metricsHost: z.string().min(1).default("127.0.0.1"),
} as const;

/** For a service's main: parse the env or print the problem (no stack trace) and exit 1. */
export function loadEnvOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    process.stderr.write(`${service}: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
