/** Test fixtures for the API and the cross-service tests (`@spam/api-service/testing`); production code never imports this. */
export { createTestDatabase, pgDatabaseOn } from "./testing/postgres.js";
export type { PgDatabase } from "./testing/postgres.js";
export { flaggedVerdict, parsedReport, deciderCase, reportAssessed } from "./testing/fixtures.js";
export { seedClickHouse } from "./testing/clickhouse.js";
