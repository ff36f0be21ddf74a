import { createClickHouse, type ClickHouse } from "@spam/clickhouse";
import pino, { type Logger } from "pino";
import { UsageError } from "../command.js";

/** Where the stored traffic and review labels are: flags, else the services' variables. */
export const STORE_OPTIONS = {
  clickhouse: { type: "string" },
  database: { type: "string" },
} as const;

/** Warnings and errors of the libraries, on stderr (stdout carries the command's output). */
export function cliLogger(): Logger {
  return pino({ level: process.env["LOG_LEVEL"] ?? "warn" }, pino.destination(2));
}

export function openStore(values: { clickhouse?: string | undefined; database?: string | undefined }, logger: Logger): ClickHouse {
  const url = values.clickhouse ?? process.env["CLICKHOUSE_URL"];
  if (!url) throw new UsageError("--clickhouse URL (or CLICKHOUSE_URL) is required");
  const database = values.database ?? process.env["CLICKHOUSE_DATABASE"] ?? "spam";
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new UsageError("--database must be a plain identifier");
  // A backtest streams for up to a minute.
  return createClickHouse({ url, database, logger, requestTimeoutMs: 120_000 });
}
