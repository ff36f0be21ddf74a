import type { Logger } from "pino";
import type { SpamClassifier } from "@spam/classifier";
import type { ModelControl, Verdict } from "@spam/contracts";
import type { EvaluateInput } from "@spam/rules";
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
export class ObservingRuleEngine implements RuleEngine {
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

export interface ModelSwitchOptions {
  /** The live scorer; its model is swapped in place (campaign state and rules carry over). */
  readonly live: Scorer;
  readonly engine: ModalRuleEngine;
  /** How shadow scorers are built: the live scorer's thresholds and cluster campaign counts. */
  readonly shadowOptions: Omit<ScorerOptions, "ruleSet" | "model">;
  readonly source: ModelSource | null;
  /** The sentence-embedding model the worker's embedder serves (null: none). */
  readonly embeddingModel: string | null;
  /** The version the live scorer starts with. */
  readonly liveVersion: string;
  readonly logger: Logger;
}

/**
 * Live model and optional shadow: scores every message with the live scorer and, when a candidate
 * runs in shadow, records what the candidate would have decided on the verdict, without acting on it.
 * Swaps happen between batches (the worker asks for `scorer` per batch).
 */
export class ModelSwitch implements MessageScorer {
  private shadow: Scorer | null = null;
  private shadowVersion: string | null = null;
  /** Serialises swaps: commands may arrive while a model file is still loading. */
  private applying: Promise<void> = Promise.resolve();

  private currentLive: string;

  constructor(private readonly options: ModelSwitchOptions) {
    this.currentLive = options.liveVersion;
  }

  get liveVersion(): string {
    return this.currentLive;
  }

  get shadowModelVersion(): string | null {
    return this.shadowVersion;
  }

  score(input: Parameters<MessageScorer["score"]>[0]): Verdict {
    const verdict = this.options.live.score(input);
    const shadow = this.shadow;
    if (shadow === null) return verdict;
    const s = shadow.score(input);
    return { ...verdict, shadow: { modelVersion: s.modelVersion, score: s.score, label: s.label, action: s.action } };
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
    const nextLive = live !== null && live !== this.currentLive ? await this.checked(await source.load(live)) : null;
    const nextShadow = shadow !== null && shadow !== this.shadowVersion ? await this.checked(await source.load(shadow)) : null;
    if (nextLive) {
      this.options.live.setModel(nextLive);
      logger.info({ from: this.currentLive, to: nextLive.modelVersion }, "live model swapped");
      this.currentLive = nextLive.modelVersion;
    }
    if (shadow === null && this.shadow !== null) {
      logger.info({ modelVersion: this.shadowVersion }, "shadow model stopped");
      this.shadow = null;
      this.shadowVersion = null;
    } else if (nextShadow) {
      this.shadow = createScorer({ ...this.options.shadowOptions, ruleSet: new ObservingRuleEngine(this.options.engine), model: nextShadow });
      this.shadowVersion = nextShadow.modelVersion;
      logger.info({ modelVersion: nextShadow.modelVersion }, "shadow model started");
    }
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
