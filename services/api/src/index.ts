export { createApiService } from "./main.js";
export type { ApiService } from "./main.js";
export { parseEnv } from "./env.js";
export { buildApp } from "./http/app.js";
export { UserStore, ROLES } from "./auth/users.js";
/** The closed set of error codes clients may see (the console has a string for each). */
export { STATUS_BY_CODE } from "./errors.js";
export { CaseStore } from "./review/cases.js";
export { ingestVerdicts, ingestReports, ingestDecisionEvents, reportUpsert } from "./review/intake.js";
export { OutboxRelay, kafkaPublisher } from "./outbox.js";
export type { PublishMessage } from "./outbox.js";
export { migratePg, ensurePgDatabase } from "./db/migrate.js";
export { createPool } from "./db/pool.js";
export { PgReviewAnalytics } from "./analytics/pg.js";
export { ClickHouseTrafficAnalytics, ClickHouseReportAnalytics, combinedReviewAnalytics } from "./analytics/clickhouse.js";
export type { ClickHouse } from "@spam/clickhouse";
export { ClickHouseSenderHistory } from "./analytics/sender.js";
