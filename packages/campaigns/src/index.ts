export { CampaignTracker } from "./campaigns.js";
export type { CampaignCounts } from "./campaigns.js";
