export { normaliseNumber } from "./number.js";
export { PendingReports } from "./pending.js";
export { decideReport } from "./flow.js";
export type { PendingReportData } from "./flow.js";
export { hashReporter } from "./hash.js";
export { parseReportCommand, CliUsageError } from "./cli.js";
