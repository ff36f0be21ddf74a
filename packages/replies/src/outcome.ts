import type { ReplyKind, ReportVerification } from "@spam/contracts";

export type CaseOutcome = "blocked" | "not_confirmed";
export type OutcomeReplyKind = Extract<ReplyKind, "outcome_blocked" | "outcome_blocked_unverified" | "outcome_not_confirmed">;

/**
 * A block decides about the sender, not about this report: the "verified as spam" text goes only to a
 * reporter whose own report was verified against delivered traffic; a blocked sender's other reporters
 * hear that it was blocked on other evidence. A Record, so a new verification state cannot be added
 * without choosing its text here.
 */
const BLOCKED: Record<ReportVerification, OutcomeReplyKind> = {
  verified: "outcome_blocked",
  unverified: "outcome_blocked_unverified",
  fabricated: "outcome_blocked_unverified",
  not_checkable: "outcome_blocked_unverified",
};

/** The outcome reply a reporter gets: the one rule for the decider and the review API. */
export function outcomeReplyKind(outcome: CaseOutcome, verification: ReportVerification | null): OutcomeReplyKind {
  if (outcome === "not_confirmed") return "outcome_not_confirmed";
  return verification === null ? "outcome_blocked_unverified" : BLOCKED[verification];
}
