import { existsSync, readFileSync } from "node:fs";
import { repoPath } from "@spam/repo-paths";

/**
 * Texts to benchmark on: `--data FILE` (label<TAB>text, repeatable), else the shared
 * Chinese training set when it sits beside the repo, else synthetic SMS-like texts.
 * The texts are only read at run time; none of them is stored in the repo.
 */
export function loadCorpus(argv: readonly string[]): { texts: string[]; source: string } {
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) if (argv[i] === "--data" && argv[i + 1] !== undefined) files.push(argv[++i]!);
  if (files.length === 0) {
    const shared = repoPath("../shared/data/sms-zh-spam-categories-train.tsv");
    if (existsSync(shared)) files.push(shared);
  }
  const texts: string[] = [];
  for (const f of files) {
    for (const line of readFileSync(f, "utf8").split("\n")) {
      const tab = line.indexOf("\t");
      if (tab > 0) texts.push(line.slice(tab + 1));
    }
  }
  if (texts.length > 0) return { texts, source: files.join(",") };
  return { texts: synthetic(5000), source: "synthetic" };
}

function synthetic(n: number): string[] {
  const templates = [
    "【某某银行】您尾号{d4}的储蓄卡于{d2}月{d2}日消费{d3}.00元，余额{d5}.12元。",
    "您的验证码为{d6}，5分钟内有效，请勿泄露。",
    "急用钱？无抵押贷款，最高{d2}万，当天到账，详询V信：dk{d4}，回T退订",
    "代开发 票，增值税专.票，联系 1{d2}{d4}{d4} 王经理",
    "澳门首家线上赌场，注册送{d3}元，点击 www.abc{d3}.top/r?{d4} 立即领取",
    "妈，我换号了，这是新号码，加我QQ {d5}{d4}，有急事",
    "明天下午3点开会，记得带上资料，谢谢！",
    "您的快递已到菜鸟驿站，取件码{d4}，请及时领取。",
  ];
  const rnd = (k: number): string => String(Math.floor(Math.random() * 10 ** k)).padStart(k, "0");
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = templates[i % templates.length]!;
    out.push(t.replace(/\{d(\d)\}/g, (_m, k: string) => rnd(Number(k))));
  }
  return out;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
