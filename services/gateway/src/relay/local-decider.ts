import type { Logger } from "pino";
import type { VerdictAction } from "@spam/contracts";
import { loadModel } from "@spam/classifier";
import { loadRuleSet } from "@spam/rules";
import { createScorer } from "@spam/scoring";

/** What the gateway's own scoring says about a message the scorer did not answer in time. */
export interface LocalVerdict {
  readonly action: VerdictAction;
  readonly campaignId: string | null;
}

export interface LocalDecider {
  decide(m: { id: string; text: string; source: string; destination: string; receivedAt: number }): LocalVerdict;
}

/**
 * The scoring library in the gateway, used only at the deadline (RELAY_FALLBACK=local): the text
 * model and the rules, with this gateway's own velocity and campaign state (it sees only the
 * messages it scores, so those signals are weaker than the scorer's). Its `block` needs the same
 * corroboration as the scorer's, so it stops less than the scorer would, never more.
 */
export async function createLocalDecider(o: { modelPath: string; rulesDir: string; logger: Logger }): Promise<LocalDecider> {
  const [model, ruleSet] = await Promise.all([loadModel(o.modelPath), loadRuleSet(o.rulesDir)]);
  const scorer = createScorer({ model, ruleSet, logger: o.logger });
  return {
    decide(m) {
      const v = scorer.score({ ...m, kind: "traffic" });
      return { action: v.action, campaignId: v.campaignId };
    },
  };
}
