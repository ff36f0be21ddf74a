export {
  CampaignSnapshotV1,
  CampaignTracker,
  DEFAULT_CAMPAIGN_OPTIONS,
  maskForCampaign,
  minhash,
} from "./campaigns.js";
export type { CampaignCounts, CampaignOptions, CampaignSnapshot, ObserveInput } from "./campaigns.js";
export { DistinctCounter } from "./hll.js";
