import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { normalize } from "@spam/normalize";
import pino from "pino";
import { repoPath } from "@spam/repo-paths";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  AhoCorasick,
  RuleLoadError,
  VelocityState,
  createRuleWatcher,
  loadRuleSet,
  regexSafetyProblem,
  type RuleSet,
} from "./index.js";

const logger = pino({ level: "silent" });
const meta = "score: 0.5\n    category: AD_Other\n    action: flag\n    owner: test\n    version: 1\n    description: test rule";
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "rules-test-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(name: string, body: string): Promise<void> {
  await mkdir(join(dir, name, ".."), { recursive: true });
  await writeFile(join(dir, name), body);
}

function ev(rs: RuleSet, text: string, sender = "13800000000", recipient = "13900000000", at = 1_000_000): string[] {
  return rs.evaluate({ normalized: normalize(text), sender, recipient, at }).map((h) => h.ruleId);
}

describe("keyword rules", () => {
  it("matches normalised keywords in one automaton, also through evasion", async () => {
    await put("k.yaml", `rules:\n  - id: inv\n    kind: keyword\n    keywords: [代开发票, 發票代開]\n    ${meta}\n  - id: loan\n    kind: keyword\n    keywords: [无抵押]\n    ${meta}\n`);
    const rs = await loadRuleSet(dir);
    expect(ev(rs, "代 开.发*票 找我")).toEqual(["inv"]);
    expect(ev(rs, "发票代开")).toEqual(["inv"]); // traditional keyword normalised at load
    expect(ev(rs, "无抵押，代开发票")).toEqual(["inv", "loan"]);
    expect(ev(rs, "你好")).toEqual([]);
    const hit = rs.evaluate({ normalized: normalize("代开发票"), sender: "1", recipient: "2", at: 0 })[0]!;
    expect(hit).toMatchObject({ ruleId: "inv", score: 0.5, category: "AD_Other", action: "flag", detail: "keywords: 代开发票" });
  });

  it("honours minMatches over distinct keywords", async () => {
    await put("k.yaml", `rules:\n  - id: combo\n    kind: keyword\n    keywords: [贷款, 额度, 利息]\n    minMatches: 2\n    ${meta}\n`);
    const rs = await loadRuleSet(dir);
    expect(ev(rs, "贷款贷款贷款")).toEqual([]);
    expect(ev(rs, "贷款额度高")).toEqual(["combo"]);
  });

  it("Aho-Corasick finds overlapping patterns across thousands of keywords", () => {
    const kws = Array.from({ length: 5000 }, (_, i) => `k${i}x`);
    kws.push("he", "she", "his", "hers");
    const ac = new AhoCorasick(kws);
    const found: string[] = [];
    ac.search("ushers k42x k4999x", (p) => found.push(kws[p]!));
    expect(found.sort()).toEqual(["he", "hers", "k42x", "k4999x", "she"].sort());
  });

  it("ignores disabled rules", async () => {
    await put("k.yaml", `rules:\n  - id: off\n    kind: keyword\n    enabled: false\n    keywords: [发票]\n    ${meta}\n`);
    expect(ev(await loadRuleSet(dir), "发票")).toEqual([]);
  });
});

describe("regex rules", () => {
  it("runs safe patterns on text or compact", async () => {
    await put("r.yaml", `rules:\n  - id: amt\n    kind: regex\n    field: compact\n    patterns: ["最高\\\\d{1,4}万"]\n    ${meta}\n`);
    const rs = await loadRuleSet(dir);
    expect(ev(rs, "额度最高 5 0 万")).toEqual(["amt"]);
    expect(ev(rs, "最高兴")).toEqual([]);
  });

  it.each(["(a+)+$", "(a|aa)+$", "(a|a)*b", ".*a.*b", "(x)\\\\1", "([a-z]+)*$"])("refuses unsafe pattern %s with file, rule and path", async (p) => {
    await put("r.yaml", `rules:\n  - id: ok\n    kind: regex\n    patterns: ["abc"]\n    ${meta}\n  - id: bad\n    kind: regex\n    patterns: ["x", "${p}"]\n    ${meta}\n`);
    const err = await loadRuleSet(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuleLoadError);
    expect(err).toMatchObject({ code: "unsafe_regex", file: "r.yaml", ruleId: "bad", path: "rules[1].patterns[1]" });
  });

  it("accepts bounded patterns", () => {
    expect(regexSafetyProblem("(?:贷款|借款).{0,12}(?:当天|秒)")).toBeNull();
    expect(regexSafetyProblem("(?:ab|cd){1,5}x+")).toBeNull();
    expect(regexSafetyProblem("(")).toMatch(/invalid regex/);
  });
});

describe("domain rules", () => {
  it("matches the domain and its sub-domains, IDN in punycode", async () => {
    await put("d.yaml", `rules:\n  - id: dom\n    kind: domain\n    domains: [evil.cn, 例子.中国]\n    ${meta}\n`);
    const rs = await loadRuleSet(dir);
    expect(ev(rs, "点击 a.b.evil.cn/x")).toEqual(["dom"]);
    expect(ev(rs, "点击 evil.cn")).toEqual(["dom"]);
    expect(ev(rs, "点击 notevil.cn")).toEqual([]);
    expect(ev(rs, "打开 http://www.例子.中国/a")).toEqual(["dom"]);
  });
});

describe("sender rules", () => {
  it("matches exact ids, prefixes (after +86) and number ranges", async () => {
    await put("s.yaml", `rules:\n  - id: s1\n    kind: sender\n    senders: [BADCO]\n    prefixes: ["170"]\n    ranges: [{ from: "10690000", to: "10690999" }]\n    ${meta}\n`);
    const rs = await loadRuleSet(dir);
    expect(ev(rs, "x", "+8617012345678")).toEqual(["s1"]);
    expect(ev(rs, "x", "badco")).toEqual(["s1"]);
    expect(ev(rs, "x", "10690500")).toEqual(["s1"]);
    expect(ev(rs, "x", "10691000")).toEqual([]);
    expect(ev(rs, "x", "13812345678")).toEqual([]);
  });

  it("rejects a rule with no sender criteria, naming the rule", async () => {
    await put("s.yaml", `rules:\n  - id: empty\n    kind: sender\n    ${meta}\n`);
    await expect(loadRuleSet(dir)).rejects.toMatchObject({ code: "schema", ruleId: "empty", path: "rules[0]" });
  });
});

describe("allow list", () => {
  it("allow-listed senders skip sender and velocity rules; signatures match at start or end", async () => {
    await put("a.yaml", `rules:\n  - id: v\n    kind: velocity\n    metric: messages\n    threshold: 1\n    windowSeconds: 60\n    ${meta}\n  - id: p\n    kind: sender\n    prefixes: ["955"]\n    ${meta}\n`);
    await put("allowlist/banks.yaml", `rules:\n  - id: banks\n    kind: allowlist\n    senders: ["95555"]\n    signatures: [【招商银行】]\n    score: -0.8\n    category: service\n    action: allow\n    owner: t\n    version: 1\n    description: banks\n`);
    await put("allowlist/shared.json", JSON.stringify({ description: "shared", senders: [{ number: "10086", name: "移动" }] }));
    const rs = await loadRuleSet(dir);
    expect(rs.isAllowListedSender("95555")).toBe(true);
    expect(rs.isAllowListedSender("10086")).toBe(true);
    expect(rs.isAllowListedSender("95556")).toBe(false);
    for (let i = 0; i < 5; i++) expect(ev(rs, "您尾号1234的卡消费100元", "95555", `1390000000${i}`, 1000 + i)).toEqual(["banks"]);
    expect(ev(rs, "【招商银行】您的验证码是1234", "13800000001")).toEqual(["banks"]);
    expect(ev(rs, "验证码1234【招商银行】", "13800000002")).toEqual(["banks"]);
    expect(ev(rs, "x", "95556")).toEqual(["p"]);
  });

  it("ships a starter set that loads and allow-lists operators and banks", async () => {
    const rs = await loadRuleSet(repoPath("rules"));
    expect(rs.isAllowListedSender("10086")).toBe(true);
    expect(rs.isAllowListedSender("95588")).toBe(true);
    expect(rs.keywordCount).toBeGreaterThan(200);
    const cats = (t: string): string[] =>
      rs.evaluate({ normalized: normalize(t), sender: "13812345678", recipient: "13900000000", at: 0 }).map((h) => h.category);
    expect(cats("代开发票，增值税专用发票，可验证后付款")).toContain("IL_Fake_ID_and_invoice");
    expect(cats("澳门线上赌场，注册送彩金，百家乐")).toContain("IL_Gambling");
    expect(cats("急用钱？无抵押贷款，当天放款")).toContain("AD_Loan");
    expect(cats("您的积分即将清零，请登录兑换现金")).toContain("FR_Phishing(Bank)");
    expect(cats("妈，我换号了，把钱打到这个账户")).toContain("FR_Other");
    expect(cats("晚上一起吃饭吗？我七点到")).toEqual([]);
  });
});

describe("velocity rules", () => {
  it("fires when one sender reaches more than N distinct recipients in the window, and forgets after it", async () => {
    await put("v.yaml", `rules:\n  - id: fan\n    kind: velocity\n    metric: distinct_recipients\n    threshold: 3\n    windowSeconds: 10\n    ${meta}\n`);
    const rs = await loadRuleSet(dir);
    const t0 = 1_000_000;
    expect(ev(rs, "hi", "13800000000", "13900000001", t0)).toEqual([]);
    expect(ev(rs, "hi", "13800000000", "13900000001", t0 + 1)).toEqual([]); // same recipient again
    expect(ev(rs, "hi", "13800000000", "13900000002", t0 + 2)).toEqual([]);
    expect(ev(rs, "hi", "13800000000", "13900000003", t0 + 3)).toEqual([]);
    expect(ev(rs, "hi", "13800000000", "13900000004", t0 + 4)).toEqual(["fan"]);
    expect(ev(rs, "hi", "13800000009", "13900000005", t0 + 5)).toEqual([]); // other sender
    expect(ev(rs, "hi", "13800000000", "13900000006", t0 + 20_000)).toEqual([]); // window passed
  });

  it("observes without counting, and skips velocity on request", async () => {
    await put("v.yaml", `rules:\n  - id: rate\n    kind: velocity\n    metric: messages\n    threshold: 1\n    windowSeconds: 60\n    ${meta}\n`);
    const rs = await loadRuleSet(dir);
    const run = (at: number, velocity?: "record" | "observe" | "skip"): string[] =>
      rs.evaluate({ normalized: normalize("x"), sender: "s1", recipient: "r", at, ...(velocity ? { velocity } : {}) }).map((h) => h.ruleId);
    expect(run(0)).toEqual([]);
    expect(run(1, "skip")).toEqual([]);
    expect(run(2, "observe")).toEqual([]); // still one message counted
    expect(run(3)).toEqual(["rate"]);
    expect(run(4, "observe")).toEqual(["rate"]);
    expect(rs.velocity.exportSender("s1")![0]![1].length).toBe(4); // two events recorded
    expect(run(70_000, "observe")).toEqual([]); // both left the window; nothing recorded
  });

  it("counts messages per minute", async () => {
    await put("v.yaml", `rules:\n  - id: rate\n    kind: velocity\n    metric: messages\n    threshold: 2\n    windowSeconds: 60\n    ${meta}\n`);
    const rs = await loadRuleSet(dir);
    expect([0, 1, 2].map((i) => ev(rs, "x", "s1", "r", i * 1000))).toEqual([[], [], ["rate"]]);
  });

  it("bounds memory: caps tracked senders (LRU) and events per sender", () => {
    const v = new VelocityState({ maxSenders: 100, maxEventsPerSender: 50 });
    for (let i = 0; i < 10_000; i++) v.record(60_000, `s${i}`, "r", i);
    expect(v.trackedSenders()).toBe(100);
    for (let i = 0; i < 1000; i++) v.record(60_000, "hot", `r${i}`, 20_000);
    const counts = v.record(60_000, "hot", "rx", 20_000);
    expect(counts.messages).toBe(50);
    expect(counts.distinctRecipients).toBe(50);
    expect(v.trackedSenders()).toBe(100);
    // The least recently seen sender was evicted, the most recent kept.
    const snap = v.export();
    const senders = snap.windows[0]!.senders.map(([s]) => s);
    expect(senders).toContain("hot");
    expect(senders).toContain("s9999");
    expect(senders).not.toContain("s0");
  });

  it("recordVelocity counts what evaluate would record: same windows, allow-listed and empty senders skipped", async () => {
    await put("v.yaml", `rules:\n  - id: fan\n    kind: velocity\n    metric: distinct_recipients\n    threshold: 2\n    windowSeconds: 60\n    ${meta}\n  - id: rate\n    kind: velocity\n    metric: messages\n    threshold: 3\n    windowSeconds: 300\n    ${meta}\n`);
    await put("allow.yaml", `rules:\n  - id: banks\n    kind: allowlist\n    senders: ["95555"]\n    score: -0.8\n    category: service\n    action: allow\n    owner: t\n    version: 1\n    description: banks\n`);
    const scored = await loadRuleSet(dir);
    const replayed = await loadRuleSet(dir);
    expect(replayed.velocityWindowMs).toBe(300_000);
    const traffic: Array<[string, string, number]> = [
      ["+8613800000001", "13900000001", 1000],
      ["13800000001", "+8613900000002", 2000],
      ["95555", "13900000003", 3000],
      ["", "13900000004", 4000],
      ["13800000002", "13900000001", 5000],
    ];
    for (const [sender, recipient, at] of traffic) {
      ev(scored, "x", sender, recipient, at);
      replayed.recordVelocity({ sender, recipient, at });
    }
    expect(replayed.velocity.export()).toEqual(scored.velocity.export());
    expect(replayed.velocity.exportSender("95555")).toBeNull();
    // The next message sees the same counts either way.
    expect(ev(replayed, "x", "13800000001", "13900000005", 6000)).toEqual(ev(scored, "x", "13800000001", "13900000005", 6000));
    expect(ev(replayed, "x", "13800000001", "13900000006", 7000)).toEqual(["fan", "rate"]);
  });

  it("velocityWindowMs is 0 without velocity rules, and recordVelocity then records nothing", async () => {
    await put("k.yaml", `rules:\n  - id: k\n    kind: keyword\n    keywords: [x]\n    ${meta}\n`);
    const rs = await loadRuleSet(dir);
    expect(rs.velocityWindowMs).toBe(0);
    rs.recordVelocity({ sender: "13800000001", recipient: "13900000001", at: 1 });
    expect(rs.velocity.trackedSenders()).toBe(0);
  });

  it("exports and imports state so a restarted worker continues the windows", async () => {
    await put("v.yaml", `rules:\n  - id: fan\n    kind: velocity\n    metric: distinct_recipients\n    threshold: 2\n    windowSeconds: 60\n    ${meta}\n`);
    const a = await loadRuleSet(dir);
    ev(a, "x", "s", "r1", 1000);
    ev(a, "x", "s", "r2", 2000);
    const snap = JSON.parse(JSON.stringify(a.velocity.export())) as unknown;
    const restored = new VelocityState();
    restored.import(snap);
    const b = await loadRuleSet(dir, { velocity: restored });
    expect(ev(b, "x", "s", "r3", 3000)).toEqual(["fan"]);
    expect(() => restored.import({ v: 2 })).toThrow();
  });
});

describe("velocity state internals", () => {
  /** The obvious model: every event kept, counts recomputed from scratch. */
  function naive(events: Array<[number, string]>, at: number, windowMs: number, cap: number): { messages: number; distinct: number } {
    const live = events.filter(([t]) => t > at - windowMs).slice(-cap);
    return { messages: live.length, distinct: new Set(live.map(([, r]) => r)).size };
  }

  it("matches a naive recount exactly under random traffic (ring growth, wrap, expiry, repeats, cap)", () => {
    let seed = 42;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const cap = 37; // not a power of two: exercises growth up to the cap and wrap-around at it
    const v = new VelocityState({ maxEventsPerSender: cap });
    const history = new Map<string, Array<[number, string]>>();
    let at = 0;
    for (let i = 0; i < 6_000; i++) {
      at += rnd(50);
      const sender = `s${rnd(5)}`;
      const recipient = `r${rnd(i % 3 === 0 ? 4 : 60)}`;
      const h = history.get(sender) ?? [];
      h.push([at, recipient]);
      history.set(sender, h);
      const got = v.record(1_000, sender, recipient, at);
      const want = naive(h, at, 1_000, cap);
      expect([got.messages, got.distinctRecipients]).toEqual([want.messages, want.distinct]);
    }
  });

  it("keeps windows of different lengths apart and restores a v1 (string recipients) snapshot", () => {
    const v = new VelocityState();
    v.record(10_000, "a", "r1", 1000);
    v.record(60_000, "a", "r1", 1000);
    expect(v.record(10_000, "a", "r2", 12_000)).toEqual({ messages: 1, distinctRecipients: 1 });
    expect(v.record(60_000, "a", "r2", 12_000)).toEqual({ messages: 2, distinctRecipients: 2 });
    const old = { v: 1, windows: [{ windowMs: 60_000, senders: [["a", [[1000, "r1"], [2000, "r1"], [3000, "r2"]]]] }] };
    const w = new VelocityState();
    w.import(old);
    expect(w.record(60_000, "a", "r2", 4000)).toEqual({ messages: 4, distinctRecipients: 2 });
    expect(w.record(60_000, "a", "r3", 4001)).toEqual({ messages: 5, distinctRecipients: 3 });
  });

  it("moves one sender's state at a time (the unit of a velocity snapshot) and forgets with null", () => {
    const a = new VelocityState();
    for (let i = 0; i < 5; i++) a.record(60_000, "s", `r${i % 3}`, 1000 + i);
    a.record(300_000, "s", "r9", 2000);
    a.record(60_000, "other", "r", 2000);
    const state = JSON.parse(JSON.stringify(a.exportSender("s"))) as unknown;
    expect(a.exportSender("nobody")).toBeNull();
    const b = new VelocityState();
    b.importSender("s", state);
    expect(b.trackedSenders()).toBe(2); // one sender in two windows; "other" did not move
    expect(b.record(60_000, "s", "r3", 3000)).toEqual({ messages: 6, distinctRecipients: 4 });
    expect(b.record(300_000, "s", "r9", 3000)).toEqual({ messages: 2, distinctRecipients: 1 });
    b.importSender("s", null);
    expect(b.trackedSenders()).toBe(0);
    expect(() => b.importSender("s", [[60_000, [1, 2, 3]]])).toThrow();
  });

  it("round-trips the full snapshot with LRU order, so eviction continues where it left off", () => {
    const a = new VelocityState({ maxSenders: 3 });
    for (const s of ["x", "y", "z"]) a.record(60_000, s, "r", 1000);
    a.record(60_000, "x", "r2", 1001); // x is now the most recent, y the least
    const b = new VelocityState({ maxSenders: 3 });
    b.import(JSON.parse(JSON.stringify(a.export())) as unknown);
    b.record(60_000, "w", "r", 1002); // evicts y
    expect(b.export().windows[0]!.senders.map(([s]) => s)).toEqual(["z", "x", "w"]);
    expect(b.record(60_000, "x", "r3", 1003)).toEqual({ messages: 3, distinctRecipients: 3 });
  });
});

describe("rule directory", () => {
  it("skips reply templates and the decider policy file", async () => {
    await put("k.yaml", `rules:\n  - id: k\n    kind: keyword\n    keywords: [x]\n    ${meta}\n`);
    await put("policy.yaml", "windowHours: 24\n");
    await put("replies/zh-CN.json", "{}");
    const rs = await loadRuleSet(dir);
    expect(rs.rules.map((r) => r.id)).toEqual(["k"]);
    await put("nested/policy.yaml", "windowHours: 24\n"); // only the top-level file is reserved
    await expect(loadRuleSet(dir)).rejects.toMatchObject({ code: "schema", file: "nested/policy.yaml" });
  });
});

describe("loading errors", () => {
  it("names file, rule id and field path for a schema error", async () => {
    await put("a.yaml", `rules:\n  - id: good\n    kind: keyword\n    keywords: [x]\n    ${meta}\n`);
    await put("b.yaml", `rules:\n  - id: bad-score\n    kind: keyword\n    keywords: [x]\n    score: 5\n    category: AD_Other\n    action: flag\n    owner: t\n    version: 1\n    description: d\n`);
    const err = (await loadRuleSet(dir).catch((e: unknown) => e)) as RuleLoadError;
    expect(err).toBeInstanceOf(RuleLoadError);
    expect(err).toMatchObject({ code: "schema", file: "b.yaml", ruleId: "bad-score", path: "rules[0].score" });
    expect(err.message).toContain("b.yaml rule bad-score at rules[0].score");
  });

  it("reports unknown kinds, unknown fields, bad categories and YAML syntax errors", async () => {
    await put("a.yaml", `rules:\n  - id: k\n    kind: nope\n    ${meta}\n`);
    await expect(loadRuleSet(dir)).rejects.toMatchObject({ code: "schema", ruleId: "k", path: "rules[0].kind" });
    await put("a.yaml", `rules:\n  - id: k\n    kind: keyword\n    keywords: [a]\n    typo: 1\n    ${meta}\n`);
    await expect(loadRuleSet(dir)).rejects.toMatchObject({ code: "schema", ruleId: "k", path: "rules[0]" });
    await put("a.yaml", `rules:\n  - id: k\n    kind: keyword\n    keywords: [a]\n    score: 0.1\n    category: NotACategory\n    action: flag\n    owner: t\n    version: 1\n    description: d\n`);
    await expect(loadRuleSet(dir)).rejects.toMatchObject({ code: "schema", ruleId: "k", path: "rules[0].category" });
    await put("a.yaml", `rules:\n  - id: k\n    kind: [unclosed\n`);
    await expect(loadRuleSet(dir)).rejects.toMatchObject({ code: "parse", file: "a.yaml" });
  });

  it("rejects duplicate ids across files and keywords that normalise to nothing", async () => {
    await put("a.yaml", `rules:\n  - id: same\n    kind: keyword\n    keywords: [x]\n    ${meta}\n`);
    await put("b.json", JSON.stringify({ rules: [{ id: "same", kind: "keyword", keywords: ["y"], score: 0.1, category: "AD_Other", action: "flag", owner: "t", version: 1, description: "d" }] }));
    await expect(loadRuleSet(dir)).rejects.toMatchObject({ code: "duplicate_id", file: "b.json", ruleId: "same" });
    await put("b.json", JSON.stringify({ rules: [{ id: "other", kind: "keyword", keywords: ["y", " * . "], score: 0.1, category: "AD_Other", action: "flag", owner: "t", version: 1, description: "d" }] }));
    await expect(loadRuleSet(dir)).rejects.toMatchObject({ code: "empty_keyword", ruleId: "other", path: "rules[0].keywords[1]" });
  });

  it("ignores the replies/ directory and gives the same content the same version", async () => {
    await put("a.yaml", `rules:\n  - id: k\n    kind: keyword\n    keywords: [x]\n    ${meta}\n`);
    await put("replies/zh-CN.json", `{"not":"rules"}`);
    const a = await loadRuleSet(dir);
    const b = await loadRuleSet(dir);
    expect(a.version).toBe(b.version);
    expect(a.version).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("hot reload", () => {
  it("swaps the live set on file change, keeps it on a bad file, and reload() works on demand", async () => {
    await put("a.yaml", `rules:\n  - id: one\n    kind: keyword\n    keywords: [发票]\n    ${meta}\n`);
    const reloaded: string[] = [];
    const errors: unknown[] = [];
    const w = await createRuleWatcher(dir, {
      logger,
      debounceMs: 50,
      onReload: (rs) => reloaded.push(rs.version),
      onError: (e) => errors.push(e),
    });
    try {
      const v1 = w.current.version;
      expect(ev(w.current, "发票")).toEqual(["one"]);

      await put("a.yaml", `rules:\n  - id: two\n    kind: keyword\n    keywords: [赌场]\n    ${meta}\n`);
      await waitFor(() => reloaded.length === 1);
      expect(w.current.version).not.toBe(v1);
      expect(ev(w.current, "赌场 发票")).toEqual(["two"]);
      const v2 = w.current.version;

      await put("a.yaml", `rules:\n  - id: broken\n    kind: regex\n    patterns: ["(a+)+"]\n    ${meta}\n`);
      await waitFor(() => errors.length >= 1);
      expect(errors[0]).toBeInstanceOf(RuleLoadError);
      expect(w.current.version).toBe(v2);
      expect(ev(w.current, "赌场")).toEqual(["two"]);

      const failed = await w.reload();
      expect(failed.status).toBe("failed");
      await put("a.yaml", `rules:\n  - id: two\n    kind: keyword\n    keywords: [赌场]\n    ${meta}\n`);
      const again = await w.reload();
      expect(["unchanged", "reloaded"]).toContain(again.status);
      expect(w.current.version).toBe(v2);
    } finally {
      w.close();
    }
  });

  it("keeps velocity windows across reloads", async () => {
    await put("v.yaml", `rules:\n  - id: rate\n    kind: velocity\n    metric: messages\n    threshold: 1\n    windowSeconds: 60\n    ${meta}\n`);
    const w = await createRuleWatcher(dir, { logger, watch: false });
    try {
      ev(w.current, "x", "s", "r", 1000);
      await put("k.yaml", `rules:\n  - id: kw\n    kind: keyword\n    keywords: [y]\n    ${meta}\n`);
      expect((await w.reload()).status).toBe("reloaded");
      expect(ev(w.current, "x", "s", "r", 2000)).toEqual(["rate"]);
    } finally {
      w.close();
    }
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error("timed out waiting for condition");
    await new Promise((r) => setTimeout(r, 20));
  }
}
