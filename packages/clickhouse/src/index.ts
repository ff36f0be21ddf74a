export { createClickHouse, ensureDatabase, restrictedDatabase, splitClickHouseUrl, ClickHouseError } from "./client.js";
export type { ClickHouse, ClickHouseErrorCode, ClickHouseOptions } from "./client.js";
export { sql, v, ident, raw, join, escapeString, isSqlFragment, SqlEncodingError } from "./sql.js";
export type { Encoder, IntType, SqlFragment, SqlQuery } from "./sql.js";
export { runMigrations, readMigrations, splitStatements, migrateDatabase, MigrationError, RESTRICTED_TABLES } from "./migrations.js";
export type { MigrationFile, MigrationResult } from "./migrations.js";
export { clusterMigrations, LOCAL_SUFFIX } from "./cluster.js";
export type { ClusterOptions } from "./cluster.js";
