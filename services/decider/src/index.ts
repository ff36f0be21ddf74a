export { DeciderCore } from "./core.js";
export { loadPolicy, defaultPolicyPath } from "./policy.js";
export { clickHouseTrafficLookup } from "./verify.js";
export { rebuildFromClickHouse } from "./rebuild.js";
export { queryCampaignCounts } from "./campaign-counts.js";
