import { createClient, type ClickHouseClient } from "@clickhouse/client";
import type { Logger } from "pino";
import { z, type ZodType, type ZodTypeDef } from "zod";
import type { SqlQuery } from "./sql.js";
import { ident, sql } from "./sql.js";

type ClickHouseErrorCode = "query_failed" | "insert_failed" | "row_invalid" | "unavailable";

class ClickHouseError extends Error {
  override readonly name = "ClickHouseError";
  constructor(
    readonly code: ClickHouseErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface ClickHouseOptions {
  readonly url: string;
  readonly database: string;
  readonly username?: string;
  readonly password?: string;
  readonly logger: Logger;
  readonly requestTimeoutMs?: number;
  /**
   * A connection other than HTTP (the SQL suite runs current ClickHouse in-process through chdb's).
   * The caller owns it: `close()` leaves it open. Statements go through it one at a time, each
   * after a `USE` of `database`, as such a connection ignores the client's database.
   */
  readonly connection?: ClientConnection;
}

type ClientConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>["connection"]>;

// Clients sharing one in-process connection (platform and restricted store) take turns on it.
const connectionTurns = new WeakMap<ClientConnection, Promise<unknown>>();
function onConnection<T>(connection: ClientConnection, run: () => Promise<T>): Promise<T> {
  const result = (connectionTurns.get(connection) ?? Promise.resolve()).then(run, run);
  connectionTurns.set(connection, result.catch(() => undefined));
  return result;
}

/**
 * The small interface every service uses. Reads are zod-checked row by row,
 * so a schema drift fails loudly at the boundary instead of deep in a handler.
 */
export interface ClickHouse {
  readonly database: string;
  query<T>(query: SqlQuery, schema: ZodType<T, ZodTypeDef, unknown>): Promise<T[]>;
  /** Rows as the server sends them, each zod-checked: for reads too large to hold (a backtest over a month of traffic). */
  stream<T>(query: SqlQuery, schema: ZodType<T, ZodTypeDef, unknown>): AsyncIterable<T>;
  command(query: SqlQuery): Promise<void>;
  insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

// 18.16 quotes 64-bit integers in JSON; current ClickHouse too by default.
// Settings are sent with each request; both versions accept these.
const READ_SETTINGS = { output_format_json_quote_64bit_integers: 1 } as const;

/**
 * The reporters' numbers (restricted contact tables) live in a database of their own next to the
 * platform's, readable only by the ClickHouse user that holds them (infra/clickhouse/users.xml.tmpl).
 */
export function restrictedDatabase(database: string): string {
  return `${database}_restricted`;
}

/**
 * Credentials may come in the URL (`http://user:password@host:8123`, like DATABASE_URL): one
 * variable per store. They are taken out of the URL so the client never logs or overrides them.
 */
export function splitClickHouseUrl(url: string): { url: string; username?: string; password?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url };
  }
  if (u.username === "" && u.password === "") return { url };
  const username = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = "";
  u.password = "";
  return { url: u.toString().replace(/\/$/, ""), ...(username ? { username } : {}), password };
}

export function createClickHouse(options: ClickHouseOptions): ClickHouse {
  const logger = options.logger.child({ component: "clickhouse" });
  const fromUrl = splitClickHouseUrl(options.url);
  const client: ClickHouseClient = createClient({
    url: fromUrl.url,
    database: options.database,
    username: options.username ?? fromUrl.username ?? "default",
    password: options.password ?? fromUrl.password ?? "",
    request_timeout: options.requestTimeoutMs ?? 30_000,
    compression: { request: false, response: false },
    application: "spam-platform",
    ...(options.connection ? { connection: options.connection } : {}),
  });
  const connection = options.connection;
  const useDatabase = sql`USE ${ident(options.database)}`.text;
  // Over HTTP the database travels with each request; over a shared connection it is set before each statement.
  const inDatabase = <T>(run: () => Promise<T>): Promise<T> =>
    connection
      ? onConnection(connection, async () => {
          await client.command({ query: useDatabase });
          return run();
        })
      : run();

  return {
    database: options.database,
    async query<T>(query: SqlQuery, schema: ZodType<T, ZodTypeDef, unknown>): Promise<T[]> {
      let rows: unknown[];
      try {
        rows = await inDatabase(async () => {
          const result = await client.query({ query: query.text, format: "JSONEachRow", clickhouse_settings: READ_SETTINGS });
          return result.json<unknown>();
        });
      } catch (cause) {
        logger.warn({ err: cause }, "query failed");
        throw new ClickHouseError("query_failed", `ClickHouse query failed: ${(cause as Error).message}`, { cause });
      }
      return rows.map((row, i) => {
        const parsed = schema.safeParse(row);
        if (!parsed.success) {
          throw new ClickHouseError("row_invalid", `row ${i} does not match its schema: ${parsed.error.message}`);
        }
        return parsed.data;
      });
    },
    async *stream<T>(query: SqlQuery, schema: ZodType<T, ZodTypeDef, unknown>): AsyncIterable<T> {
      const check = (row: unknown, i: number): T => {
        const parsed = schema.safeParse(row);
        if (!parsed.success) throw new ClickHouseError("row_invalid", `row ${i} does not match its schema: ${parsed.error.message}`);
        return parsed.data;
      };
      if (connection) {
        // An in-process connection answers at once and is shared: read it whole, in its turn.
        let i = 0;
        for (const row of await this.query(query, z.unknown())) yield check(row, i++);
        return;
      }
      let stream: AsyncIterable<{ json<R>(): R }[]>;
      try {
        const result = await client.query({ query: query.text, format: "JSONEachRow", clickhouse_settings: READ_SETTINGS });
        stream = result.stream() as AsyncIterable<{ json<R>(): R }[]>;
      } catch (cause) {
        logger.warn({ err: cause }, "query failed");
        throw new ClickHouseError("query_failed", `ClickHouse query failed: ${(cause as Error).message}`, { cause });
      }
      let i = 0;
      try {
        for await (const rows of stream) for (const row of rows) yield check(row.json<unknown>(), i++);
      } catch (cause) {
        if (cause instanceof ClickHouseError) throw cause;
        throw new ClickHouseError("query_failed", `ClickHouse query failed while streaming: ${(cause as Error).message}`, { cause });
      }
    },
    async command(query: SqlQuery): Promise<void> {
      try {
        await inDatabase(() => client.command({ query: query.text }));
      } catch (cause) {
        throw new ClickHouseError("query_failed", `ClickHouse command failed: ${(cause as Error).message}`, { cause });
      }
    },
    async insert(table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
      if (rows.length === 0) return;
      ident(table); // refuse anything but a plain table name
      try {
        await inDatabase(() => client.insert({ table, values: rows as Record<string, unknown>[], format: "JSONEachRow" }));
      } catch (cause) {
        throw new ClickHouseError("insert_failed", `ClickHouse insert into ${table} failed: ${(cause as Error).message}`, { cause });
      }
    },
    async ping(): Promise<boolean> {
      const result = await client.ping();
      return result.success;
    },
    close: () => (connection ? Promise.resolve() : client.close()),
  };
}

/** Creates the database if missing (on every node of `cluster` when given), using a client bound to `default`. */
export async function ensureDatabase(options: Omit<ClickHouseOptions, "database">, database: string, cluster?: string): Promise<void> {
  const admin = createClickHouse({ ...options, database: "default" });
  try {
    await admin.command(cluster ? sql`CREATE DATABASE IF NOT EXISTS ${ident(database)} ON CLUSTER ${ident(cluster)}` : sql`CREATE DATABASE IF NOT EXISTS ${ident(database)}`);
  } finally {
    await admin.close();
  }
}
