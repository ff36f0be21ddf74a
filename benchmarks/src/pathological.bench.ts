import { resolve } from "node:path";
import { loadModel } from "@spam/classifier";
import { blockListKey } from "@spam/contracts";
import { BlockList } from "@spam/gateway-service";
import { extractUrls } from "@spam/normalize";
import { loadRuleSet } from "@spam/rules";
import { createScorer } from "@spam/scoring";
import { percentile } from "./corpus.js";
import { REPO_ROOT } from "@spam/repo-paths";
import { usageOnHelp } from "./lib/usage.js";

usageOnHelp(`usage: node benchmarks/dist/pathological.bench.js [--kb N] [--seconds-per-case S] [--old]`);
// Cost per message of 64 KB pathological texts (`message_payload` allows that much) on the
// message path: the gateway's block-list match (with a domain block active, so the text is
// scanned) and the scorer (normalise + rules + model + campaigns). With --old, the regexes
// the gateway and the review effects used before are timed once each on an 8 KB slice and on
// the 20,000-character probe, for comparison (seconds each: they were quadratic).
const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const chars = Number(arg("--kb") ?? 64) * 1024;
const perCase = Number(arg("--seconds-per-case") ?? 0.5);
const root = REPO_ROOT;

const fill = (unit: string) => unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);
const TEXTS: Record<string, string> = {
  "dotted labels (issue 17)": fill(`a.${"b".repeat(30)}`),
  "63-char labels": fill(`${"b".repeat(63)}.`),
  "digit run": fill("1"),
  "Chinese numerals": fill("一二三"),
  "dotted digits": fill(`1.${"2".repeat(30)}`),
  "hyphen labels": fill(`${"a-".repeat(30)}a.`),
  "schemes": fill("http://"),
  "obfuscated dots": fill("a[.]"),
  "spam-like, repeated": fill("恭喜您中奖10000元，点击 http://prize.example.cn 领取，加微信 vx13800138000 "),
};

const OLD_GATEWAY_HOST = /(?:https?:\/\/)?((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24})(?![a-z0-9-])/gi;
const OLD_EFFECTS_HOST = /(?:https?:\/\/)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:[/:?#]\S*)?/gi;

/** Per-call microseconds of f over about `seconds`, after a warm-up. */
function time(f: () => unknown, seconds: number): { n: number; usP50: number; usMax: number } {
  for (let i = 0; i < 3; i++) f();
  const samples: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  do {
    const t0 = performance.now();
    f();
    samples.push((performance.now() - t0) * 1000);
  } while (performance.now() < deadline && samples.length < 100_000);
  const sorted = Float64Array.from(samples).sort();
  return { n: samples.length, usP50: Number(percentile(sorted, 50).toFixed(1)), usMax: Number(sorted[sorted.length - 1]!.toFixed(1)) };
}

const blockList = new BlockList();
blockList.apply(blockListKey("domain", "evil.cn"), {
  v: 1, kind: "domain", value: "evil.cn", state: "active", reason: "bench", evidence: { reportIds: [], verdictIds: [] },
  createdBy: "bench", createdAt: Date.now(), expiresAt: null, version: 1,
});
const scorer = createScorer({
  ruleSet: await loadRuleSet(resolve(root, "rules")),
  model: await loadModel(resolve(root, "packages/classifier/models/default.model.json")),
});

let seq = 0;
for (const [name, text] of Object.entries(TEXTS)) {
  const gateway = time(() => blockList.match("13900000000", text), perCase);
  const urls = time(() => extractUrls(text), perCase);
  const scoring = time(
    () => scorer.score({ id: `p${seq++}`, text, source: `139${String(seq).padStart(8, "0")}`, destination: "13800000000", receivedAt: 1_700_000_000_000 + seq }),
    perCase,
  );
  process.stdout.write(
    `${JSON.stringify({ bench: "pathological", text: name, chars: text.length, gatewayMatch: gateway, extractUrls: urls, scorer: scoring })}\n`,
  );
}

if (argv.includes("--old")) {
  const once = (re: RegExp, text: string) => {
    const t0 = performance.now();
    let n = 0;
    for (const _ of text.matchAll(re)) n++;
    return { ms: Number((performance.now() - t0).toFixed(1)), matches: n };
  };
  const probe = `a.${"b".repeat(30)}`.repeat(625);
  for (const [name, text] of [["dotted labels, 8 KB", TEXTS["dotted labels (issue 17)"]!.slice(0, 8192)], ["dotted digits, 8 KB", TEXTS["dotted digits"]!.slice(0, 8192)], ["issue probe, 20,000 chars", probe]] as const) {
    process.stdout.write(
      `${JSON.stringify({ bench: "pathological-old-regex", text: name, chars: text.length, oldGatewayHost: once(OLD_GATEWAY_HOST, text), oldEffectsHost: once(OLD_EFFECTS_HOST, text), newExtractUrlsMs: Number(time(() => extractUrls(text), 0.2).usP50 / 1000) })}\n`,
    );
  }
}
