import { readFileSync } from "node:fs";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { DEFAULT_PIPELINE_OPTIONS, loadModelFromString, parseLabelledTsv, serializeModel, trainModel, type SpamClassifier } from "@spam/classifier";
import { normalize } from "@spam/normalize";
import { repoPath } from "@spam/repo-paths";
import type { EvaluateInput, RuleSet } from "@spam/rules";
import { candidateRules } from "@spam/learning";
import { createScorer } from "@spam/scoring";
import { ModelSwitch, type ModelSource } from "./models.js";
import { ModalRuleEngine } from "./velocity-replay.js";

const logger = pino({ level: "silent" });
const FIXTURE = repoPath("packages/classifier/fixtures/train.tsv");
const NOVEL = "斑马灯笼俱乐部第3期活动周六举行，回复Y报名";

/** Two small models: the fixtures, and the fixtures plus a campaign only the second knows as spam. */
function models(): { base: SpamClassifier; cand: SpamClassifier } {
  const rows = parseLabelledTsv(readFileSync(FIXTURE, "utf8")).rows.filter((r) => r.category === null);
  const examples = rows.map((r) => ({ text: normalize(r.text).text, raw: r.text, spam: r.spam, category: null }));
  const novel = Array.from({ length: 30 }, (_, n) => `斑马灯笼俱乐部第${n}期活动举行，回复Y报名`).map((t) => ({ text: normalize(t).text, raw: t, spam: true, category: null }));
  const opts = { ...DEFAULT_PIPELINE_OPTIONS, latinStack: null, features: { ...DEFAULT_PIPELINE_OPTIONS.features, bits: 14 } };
  const train = (ex: typeof examples) => loadModelFromString(serializeModel(trainModel(ex, opts)));
  return { base: train(examples), cand: train([...examples, ...novel]) };
}

/** A rule set that records the velocity mode of every evaluation. */
function recordingRules(): { engine: ModalRuleEngine; modes: string[] } {
  const modes: string[] = [];
  const inner = {
    version: "rs-1",
    evaluate: (input: EvaluateInput) => {
      modes.push(input.velocity ?? "record");
      return [];
    },
    isAllowListedSender: () => false,
  } as unknown as RuleSet;
  return { engine: new ModalRuleEngine(inner), modes };
}

const input = (id: string) => ({ id, text: NOVEL, source: "13700000001", destination: "13900000001", receivedAt: 1_790_000_000_000, kind: "traffic" as const });

describe("ModelSwitch: the live model and a shadow", () => {
  const { base, cand } = models();
  const files = new Map([
    [base.modelVersion, base],
    [cand.modelVersion, cand],
  ]);
  const source = (state = { live: base.modelVersion, shadow: null as string | null }): ModelSource => ({
    load: async (id) => {
      const m = files.get(id);
      if (!m) throw new Error(`no model ${id}`);
      return m;
    },
    state: async () => state,
  });
  const make = (src: ModelSource) => {
    const { engine, modes } = recordingRules();
    const live = createScorer({ ruleSet: engine, model: base });
    const sw = new ModelSwitch({ live, engine, shadowOptions: {}, source: src, embeddingModel: null, liveModel: base, logger });
    return { sw, modes };
  };

  it("a shadow's decision is recorded on the verdict while the live model decides, and the message counts in the velocity windows once", async () => {
    const { sw, modes } = make(source());
    expect(sw.score(input("m-1"))).toMatchObject({ modelVersion: base.modelVersion, label: "ham" });
    expect(sw.score(input("m-1")).shadow).toBeUndefined();
    modes.length = 0;
    await sw.apply({ live: base.modelVersion, shadow: cand.modelVersion });
    const verdict = sw.score(input("m-2"));
    expect(verdict).toMatchObject({ modelVersion: base.modelVersion, label: "ham", action: "allow" });
    expect(verdict.shadow).toMatchObject({ modelVersion: cand.modelVersion });
    expect(verdict.shadow!.score).toBeGreaterThan(verdict.score);
    expect(["spam", "suspect"]).toContain(verdict.shadow!.label);
    expect(modes).toEqual(["record", "observe"]);
  });

  it("promotes without a new scorer (campaign state carries over), stops a shadow, and names the version on every verdict", async () => {
    const { sw } = make(source());
    await sw.apply({ live: base.modelVersion, shadow: cand.modelVersion });
    await sw.apply({ live: cand.modelVersion, shadow: null });
    const verdict = sw.score(input("m-3"));
    expect(verdict.modelVersion).toBe(cand.modelVersion);
    expect(verdict.shadow).toBeUndefined();
    expect(sw.liveVersion).toBe(cand.modelVersion);
    expect(sw.shadowModelVersion).toBeNull();
  });

  it("a command naming a model that does not load changes nothing: the worker keeps both models", async () => {
    const { sw } = make(source());
    await sw.apply({ live: base.modelVersion, shadow: cand.modelVersion });
    await expect(sw.apply({ live: "0000000000000000", shadow: null })).rejects.toThrow(/no model/);
    expect(sw.liveVersion).toBe(base.modelVersion);
    expect(sw.shadowModelVersion).toBe(cand.modelVersion);
    expect(sw.score(input("m-4")).shadow?.modelVersion).toBe(cand.modelVersion);
  });

  it("refresh reads the registry: the shadow it names starts", async () => {
    const { sw } = make(source({ live: base.modelVersion, shadow: cand.modelVersion }));
    await sw.refresh();
    expect(sw.shadowModelVersion).toBe(cand.modelVersion);
  });

  it("a candidate rule set in shadow: its rules fire only in the shadow, on the live model, and follow a live swap", async () => {
    const { sw, modes } = make(source());
    const rules = candidateRules("rules:\n  - id: cand.zebra\n    kind: keyword\n    keywords: [斑马灯笼]\n    score: 0.9\n    category: AD_Other\n    action: block\n    owner: t\n    version: 1\n    description: d\n");
    sw.setShadowRules(rules);
    modes.length = 0;
    const v = sw.score(input("m-5"));
    expect(v.contributions.map((c) => c.id)).not.toContain("cand.zebra");
    expect(v.shadow).toMatchObject({ modelVersion: base.modelVersion, rulesetVersion: rules.version });
    expect(v.shadow!.score).toBeGreaterThan(v.score);
    expect(modes).toEqual(["record"]); // the live windows count the message once; the candidate keeps its own
    await sw.apply({ live: cand.modelVersion, shadow: null });
    expect(sw.score(input("m-6")).shadow).toMatchObject({ modelVersion: cand.modelVersion, rulesetVersion: rules.version });
    sw.setShadowRules(null);
    expect(sw.score(input("m-7")).shadow).toBeUndefined();
  });
});
