import pino, { type Logger } from "pino";

/** Human-readable logs for the operator-facing scripts (npm start, infra CLI). */
export function createScriptLogger(name: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  return pino({
    name,
    level,
    transport: { target: "pino-pretty", options: { destination: 2, colorize: process.stderr.isTTY, ignore: "pid,hostname", translateTime: "HH:MM:ss" } },
  });
}
