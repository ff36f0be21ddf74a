import type { ReplyKind, ReportVerification } from "@spam/contracts";

export type CaseOutcome = "blocked" | "not_confirmed";
export type OutcomeReplyKind = Extract<ReplyKind, "outcome_blocked" | "outcome_blocked_unverified" | "outcome_not_confirmed">;

/**
 * The outcome reply a reporter gets. A block decides about the sender, not about this report: the
 * "verified as spam" text goes only to a reporter whose own report was verified against delivered
 * traffic; a blocked sender's other reporters (unverified, fabricated, unknown) hear that it was
 * blocked on other evidence. The one rule for the decider and the review API.
 */
export function outcomeReplyKind(outcome: CaseOutcome, verification: ReportVerification | null): OutcomeReplyKind {
  if (outcome === "not_confirmed") return "outcome_not_confirmed";
  return verification === "verified" ? "outcome_blocked" : "outcome_blocked_unverified";
}
