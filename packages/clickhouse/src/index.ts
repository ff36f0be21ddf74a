export { createClickHouse, ensureDatabase, restrictedDatabase } from "./client.js";
export type { ClickHouse, ClickHouseOptions } from "./client.js";
export { sql, v, ident, raw, join } from "./sql.js";
export type { SqlFragment, SqlQuery } from "./sql.js";
export { runMigrations, readMigrations, migrateDatabase, RESTRICTED_TABLES } from "./migrations.js";
export type { MigrationResult } from "./migrations.js";
