/**
 * The spam category taxonomy every part of the platform shares: the 14 fine
 * labels of the public Chinese category set, grouped into the three groups
 * operations teams report on (plus "other").
 */
export const SPAM_CATEGORIES = [
  "AD_Loan",
  "AD_Network_service",
  "AD_Other",
  "AD_Real_estate",
  "AD_Retail",
  "FR_Financial",
  "FR_Other",
  "FR_Phishing(Bank)",
  "FR_Phishing(Other)",
  "IL_Escort_service",
  "IL_Fake_ID_and_invoice",
  "IL_Gambling",
  "IL_Political_propaganda",
  "Other",
] as const;

export const CATEGORY_GROUPS = ["advertising", "fraud", "illegal", "other"] as const;
export type CategoryGroup = (typeof CATEGORY_GROUPS)[number];

/** AD_* → advertising, FR_* → fraud, IL_* → illegal, anything else → other. */
export function categoryGroup(label: string): CategoryGroup {
  if (label.startsWith("AD_")) return "advertising";
  if (label.startsWith("FR_")) return "fraud";
  if (label.startsWith("IL_")) return "illegal";
  return "other";
}
