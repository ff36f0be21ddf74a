import type { Logger } from "pino";
import type { SpamClassifier } from "@spam/classifier";
import type { ModelControl, Verdict } from "@spam/contracts";
import type { EvaluateInput, RuleSet } from "@spam/rules";
import { createScorer, type RuleEngine, type Scorer, type ScorerOptions } from "@spam/scoring";
import type { ModalRuleEngine } from "./velocity-replay.js";
import type { MessageScorer } from "./worker.js";

/** Where registered model versions come from (@spam/learning's ModelRegistry). */
export interface ModelSource {
  load(id: string): Promise<SpamClassifier>;
  state(): Promise<{ live: string | null; shadow: string | null }>;
}

/**
 * The rule engine a shadow scorer sees: the live rule set (reloads included) reading the velocity
 * windows the live scorer has just counted the message in, never counting it a second time.
 */
class ObservingRuleEngine implements RuleEngine {
  constructor(private readonly engine: ModalRuleEngine) {}
  get version(): string {
    return this.engine.version;
  }
  evaluate(input: EvaluateInput): ReturnType<ModalRuleEngine["evaluate"]> {
    return this.engine.inner.evaluate({ ...input, velocity: this.engine.mode === "skip" ? "skip" : "observe" });
  }
  isAllowListedSender(sender: string): boolean {
    return this.engine.isAllowListedSender(sender);
  }
}

/**
 * A candidate rule set in shadow: windows of its own (its velocity rules count every message once, in
 * its own state), following the live engine's mode (a report skips velocity rules in both).
 */
class CandidateRuleEngine implements RuleEngine {
  constructor(
    private readonly rules: RuleSet,
    private readonly live: ModalRuleEngine,
  ) {}
  get version(): string {
    return this.rules.version;
  }
  evaluate(input: EvaluateInput): ReturnType<RuleSet["evaluate"]> {
    return this.rules.evaluate(this.live.mode === "record" ? input : { ...input, velocity: this.live.mode });
  }
  isAllowListedSender(sender: string): boolean {
    return this.rules.isAllowListedSender(sender);
  }
}

interface ModelSwitchOptions {
  /** The live scorer; its model is swapped in place (campaign state and rules carry over). */
  readonly live: Scorer;
  readonly engine: ModalRuleEngine;
  /** How shadow scorers are built: the live scorer's thresholds and cluster campaign counts. */
  readonly shadowOptions: Omit<ScorerOptions, "ruleSet" | "model">;
  readonly source: ModelSource | null;
  /** The sentence-embedding model the worker's embedder serves (null: none). */
  readonly embeddingModel: string | null;
  /** The model the live scorer starts with. */
  readonly liveModel: SpamClassifier;
  readonly logger: Logger;
}

/**
 * Live model and optional shadow: scores every message with the live scorer and, when a candidate
 * model or rule set runs in shadow, records what the candidate would have decided on the verdict,
 * without acting on it. Swaps happen between batches (the worker asks for `scorer` per batch).
 */
export class ModelSwitch implements MessageScorer {
  private shadow: Scorer | null = null;
  private shadowModel: SpamClassifier | null = null;
  private shadowRules: RuleSet | null = null;
  /** Serialises swaps: commands may arrive while a model file is still loading. */
  private applying: Promise<void> = Promise.resolve();
  private liveModel: SpamClassifier;

  constructor(private readonly options: ModelSwitchOptions) {
    this.liveModel = options.liveModel;
  }

  get liveVersion(): string {
    return this.liveModel.modelVersion;
  }

  /** The candidate model in shadow (null: none; a rule-set shadow uses the live model). */
  get shadowModelVersion(): string | null {
    return this.shadowModel?.modelVersion ?? null;
  }

  /** A candidate rule set to run in shadow (SHADOW_RULES_DIR and its reloads); null stops it. */
  setShadowRules(rules: RuleSet | null): void {
    this.shadowRules = rules;
    this.rebuildShadow();
    this.options.logger.info({ rulesetVersion: rules?.version ?? null }, rules ? "shadow rule set loaded" : "shadow rule set stopped");
  }

  score(input: Parameters<MessageScorer["score"]>[0]): Verdict {
    const verdict = this.options.live.score(input);
    const shadow = this.shadow;
    if (shadow === null) return verdict;
    const s = shadow.score(input);
    const rules = this.shadowRules ? { rulesetVersion: s.rulesetVersion } : {};
    return { ...verdict, shadow: { modelVersion: s.modelVersion, ...rules, score: s.score, label: s.label, action: s.action } };
  }

  wantsEmbedding(text: string): boolean {
    // A shadow shares the live embedding model (apply refuses another), so one embedding serves both.
    return this.options.live.wantsEmbedding(text) || (this.shadow?.wantsEmbedding(text) ?? false);
  }

  /** Applies a command from the control topic. */
  apply(command: Pick<ModelControl, "live" | "shadow">): Promise<void> {
    const run = this.applying.then(() => this.applyNow(command.live, command.shadow));
    this.applying = run.catch(() => undefined);
    return run;
  }

  /** Re-reads the registry (at start, and after joining the control topic so no command is missed). */
  async refresh(): Promise<void> {
    if (!this.options.source) return;
    const state = await this.options.source.state();
    if (state.live === null) return;
    await this.apply({ live: state.live, shadow: state.shadow });
  }

  private async applyNow(live: string | null, shadow: string | null): Promise<void> {
    const { source, logger } = this.options;
    if (!source) {
      logger.warn("a model command arrived but MODEL_REGISTRY_DIR is not set: keeping the model file");
      return;
    }
    // Load both before changing anything: a bad file leaves the worker as it was.
    const nextLive = live !== null && live !== this.liveModel.modelVersion ? this.checked(await source.load(live)) : null;
    const nextShadow = shadow !== null && shadow !== this.shadowModelVersion ? this.checked(await source.load(shadow)) : null;
    if (nextLive) {
      this.options.live.setModel(nextLive);
      logger.info({ from: this.liveModel.modelVersion, to: nextLive.modelVersion }, "live model swapped");
      this.liveModel = nextLive;
    }
    const shadowChanged = nextShadow !== null || (shadow === null && this.shadowModel !== null);
    if (shadow === null && this.shadowModel !== null) logger.info({ modelVersion: this.shadowModel.modelVersion }, "shadow model stopped");
    if (nextShadow) logger.info({ modelVersion: nextShadow.modelVersion }, "shadow model started");
    if (shadowChanged) this.shadowModel = shadow === null ? null : nextShadow;
    // A rule-set shadow runs on the live model: it follows a swap.
    if (shadowChanged || (nextLive && this.shadowModel === null && this.shadowRules !== null)) this.rebuildShadow();
  }

  private rebuildShadow(): void {
    if (this.shadowModel === null && this.shadowRules === null) {
      this.shadow = null;
      return;
    }
    const engine = this.shadowRules ? new CandidateRuleEngine(this.shadowRules, this.options.engine) : new ObservingRuleEngine(this.options.engine);
    this.shadow = createScorer({ ...this.options.shadowOptions, ruleSet: engine, model: this.shadowModel ?? this.liveModel });
  }

  /** A model whose second look needs another embedding model than the worker serves is refused. */
  private checked(model: SpamClassifier): SpamClassifier {
    const wants = model.latinStack?.embeddingModel ?? null;
    if (wants !== null && wants !== this.options.embeddingModel) {
      throw new Error(`model ${model.modelVersion} needs embedding model ${wants}; this worker serves ${this.options.embeddingModel ?? "none"} (restart it with that model)`);
    }
    return model;
  }
}
