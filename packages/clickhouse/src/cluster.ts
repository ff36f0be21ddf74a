import type { MigrationFile } from "./migrations.js";
import { ident } from "./sql.js";

/**
 * The cluster variant of the schema, derived from the single-node migrations so the schema keeps one
 * home. Every MergeTree table `t` becomes `t_local` (the Replicated engine of the same family, one
 * replica set per shard, paths from the server's {shard} and {replica} macros) behind a Distributed
 * `t` that keeps the name every service and view uses. Rows are sharded by a hash of the table's
 * ORDER BY key, so the rows a ReplacingMergeTree collapses meet on one shard and FINAL stays exact;
 * aggregate states merge across shards on read. A materialized view fires on the shard that stores
 * the row: it reads the local source table and writes the local target. Views and INSERT … SELECT
 * use the Distributed names. Current ClickHouse only (ON CLUSTER, {database} in replica paths).
 */
export interface ClusterOptions {
  /** A cluster of the servers' remote_servers configuration. */
  readonly cluster: string;
}

const CREATE_TABLE = /^CREATE TABLE IF NOT EXISTS (\w+)\s*\(([\s\S]*)\)\s*ENGINE\s*=\s*(\w*)MergeTree\(([^)]*)\)([\s\S]*)$/;
const CREATE_MV = /^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) TO (\w+) AS\s+([\s\S]*)$/;
const CREATE_VIEW = /^CREATE VIEW IF NOT EXISTS (\w+) AS\s+([\s\S]*)$/;
const INSERT_SELECT = /^INSERT INTO \w+\s+SELECT\b/;
const DROP_TABLE = /^DROP TABLE IF EXISTS (\w+)$/;
const ALTER_ADD = /^ALTER TABLE (\w+)\s+(ADD COLUMN [\s\S]*)$/;
const ORDER_BY = /\bORDER BY\s+(\([^)]*\)|\w+)/;

const LOCAL_SUFFIX = "_local";

/** The statements of `files` for a cluster; tables are those the files create (in order). */
export function clusterMigrations(files: readonly MigrationFile[], options: ClusterOptions): MigrationFile[] {
  const cluster = ident(options.cluster).text;
  const tables = new Set<string>();
  return files.map((file) => ({
    ...file,
    statements: file.statements.flatMap((statement) => {
      try {
        return clusterStatement(statement, cluster, tables);
      } catch (cause) {
        throw new Error(`${file.name}: ${(cause as Error).message}\n--- statement:\n${statement}`);
      }
    }),
  }));
}

function clusterStatement(statement: string, cluster: string, tables: Set<string>): string[] {
  const table = CREATE_TABLE.exec(statement);
  if (table) {
    const [, name, columns, family, args, rest] = table as unknown as [string, string, string, string, string, string];
    const order = ORDER_BY.exec(rest);
    if (!order?.[1]) throw new Error(`table ${name} has no ORDER BY to shard by`);
    const key = order[1].startsWith("(") ? order[1].slice(1, -1) : order[1];
    const local = `${name}${LOCAL_SUFFIX}`;
    const engineArgs = ["'/clickhouse/tables/{shard}/{database}/{table}'", "'{replica}'", ...(args.trim() ? [args.trim()] : [])].join(", ");
    tables.add(name);
    return [
      `CREATE TABLE IF NOT EXISTS ${local} ON CLUSTER ${cluster}\n(${columns})\nENGINE = Replicated${family}MergeTree(${engineArgs})${rest}`,
      `CREATE TABLE IF NOT EXISTS ${name} ON CLUSTER ${cluster} AS ${local}\nENGINE = Distributed(${cluster}, currentDatabase(), ${local}, cityHash64(${key}))`,
    ];
  }
  const mv = CREATE_MV.exec(statement);
  if (mv) {
    const [, name, target, select] = mv as unknown as [string, string, string, string];
    if (!tables.has(target)) throw new Error(`materialized view ${name} writes ${target}, which no migration created`);
    const localSelect = select.replace(/\bFROM (\w+)/g, (whole, source: string) => (tables.has(source) ? `FROM ${source}${LOCAL_SUFFIX}` : whole));
    return [`CREATE MATERIALIZED VIEW IF NOT EXISTS ${name} ON CLUSTER ${cluster} TO ${target}${LOCAL_SUFFIX} AS\n${localSelect}`];
  }
  const view = CREATE_VIEW.exec(statement);
  if (view) return [`CREATE VIEW IF NOT EXISTS ${view[1]} ON CLUSTER ${cluster} AS\n${view[2]}`];
  // Through the Distributed tables, once, from the node that migrates.
  if (INSERT_SELECT.test(statement)) return [statement];
  const drop = DROP_TABLE.exec(statement);
  if (drop) {
    tables.delete(drop[1] as string);
    return [`DROP TABLE IF EXISTS ${drop[1]} ON CLUSTER ${cluster}`, `DROP TABLE IF EXISTS ${drop[1]}${LOCAL_SUFFIX} ON CLUSTER ${cluster}`];
  }
  // New columns on every node's local table, then on the Distributed table that reads them.
  const alter = ALTER_ADD.exec(statement);
  if (alter && tables.has(alter[1] as string)) {
    return [`ALTER TABLE ${alter[1]}${LOCAL_SUFFIX} ON CLUSTER ${cluster} ${alter[2]}`, `ALTER TABLE ${alter[1]} ON CLUSTER ${cluster} ${alter[2]}`];
  }
  throw new Error("no cluster form for this statement: add one to packages/clickhouse/src/cluster.ts");
}
