import { spawn } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { VerdictV1 } from "@spam/contracts";
import { main, type CommandIo } from "./index.js";

function io(stdinText = ""): CommandIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = "";
  let e = "";
  stdout.on("data", (d: Buffer) => (o += d.toString()));
  stderr.on("data", (d: Buffer) => (e += d.toString()));
  return { stdout, stderr, stdin: Readable.from([stdinText]), out: () => o, err: () => e };
}

const lines = [
  "ham\t今晚一起吃饭吗老地方见",
  "ham\t明天的会议改到下午三点了",
  "ham\t到家了没有到了回个消息",
  "ham\t孩子的作业我检查过了明早签字",
  "ham\tsee you at lunch tomorrow",
  "ham\ti will call you when i get home",
  "this line has no tab",
  "spam\t无抵押信用贷款当天放款详询13912345678",
  "spam\t代开各类发票点数优惠联系电话13800001111",
  "spam\t澳门线上赌场注册即送888元彩金网址 bet1234.com",
  "spam\t恭喜您中奖苹果手机一部请点击 xz1234.top 领取",
  "weird\tunknown label",
  "spam\tfree entry to win a prize text win to 80086 now",
  "spam\turgent you have won a cash award call 09061234567",
  "AD_Loan\t无 抵押 贷款 DIGIT 万 当天 放款 PHONE",
  "IL_Gambling\t线上 赌场 注册 送 DIGIT 元 彩金 URL",
];

/** A small model trained on `lines` in a new temporary directory. */
async function trainedModel(): Promise<{ dir: string; model: string }> {
  const dir = await mkdtemp(join(tmpdir(), "spam-cli-"));
  const train = join(dir, "train.tsv");
  await writeFile(train, lines.join("\n") + "\n");
  const model = join(dir, "m.json");
  expect(await main(["train", "--data", train, "--out", model, "--bits", "14"], io())).toBe(0);
  return { dir, model };
}

describe("spam CLI", () => {
  it("trains (skipping malformed lines with their numbers), evaluates and scores", async () => {
    const dir = await mkdtemp(join(tmpdir(), "spam-cli-"));
    const data = join(dir, "d.tsv");
    await writeFile(data, lines.join("\n") + "\n");
    const model = join(dir, "m.json");

    const t = io();
    expect(await main(["train", "--data", data, "--out", model, "--bits", "14"], t)).toBe(0);
    expect(t.err()).toContain(`${data}:7: skipped: no tab separator`);
    expect(t.err()).toContain(`${data}:12: skipped: unknown label`);
    expect(JSON.parse(t.out()).modelVersion).toMatch(/^[0-9a-f]{16}$/);

    const e = io();
    expect(await main(["eval", "--model", model, "--data", data, "--json"], e)).toBe(0);
    const m = JSON.parse(e.out()) as Record<string, unknown>;
    for (const k of ["n", "precision", "recall", "f1", "mcc", "accuracy", "ham_fpr"]) expect(typeof m[k]).toBe("number");
    expect(m["n"]).toBe(12);
    expect((m["categories"] as { macro_f1: number }).macro_f1).toBeGreaterThan(0);

    const s = io("代开发票联系13800001111\n\n今晚吃饭吗\n");
    expect(await main(["score", "--model", model], s)).toBe(0);
    const verdicts = s.out().trim().split("\n").map((l) => VerdictV1.parse(JSON.parse(l)));
    expect(verdicts).toHaveLength(2);
    expect(verdicts[0]!.messageId).toBe("stdin-1");
  });

  it("eval with the scorer prints per-class figures with the commercial class apart from spam (issue 18)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "spam-cli-"));
    const data = join(dir, "d.tsv");
    const train = lines.filter((l) => /^(ham|spam)\t/.test(l));
    await writeFile(data, [...train, "ham\t【悦享超市】会员日全场商品八折，满200减30，详情见门店公告。回T退订"].join("\n") + "\n");
    const model = join(dir, "m.json");
    expect(await main(["train", "--data", data, "--out", model, "--bits", "14"], io())).toBe(0);

    const j = io();
    expect(await main(["eval", "--model", model, "--data", data, "--scorer", "--source", "1069012345", "--json"], j)).toBe(0);
    const classes = (JSON.parse(j.out()) as { classes: { label: string; kind: string; n: number; commercial: number; spam: number }[] }).classes;
    const promos = classes.find((c) => c.label === "ham" && c.kind === "commercial")!;
    expect(promos).toMatchObject({ n: 1, commercial: 1, spam: 0 });

    const t = io();
    expect(await main(["eval", "--model", model, "--data", data, "--scorer", "--source", "1069012345"], t)).toBe(0);
    expect(t.out()).toMatch(/per class[^\n]*\n[^\n]*spam\s+suspect\s+commercial/);
  });

  it("scores every row as an unrelated message: one --source for all rows is no velocity burst", async () => {
    const { dir, model } = await trainedModel();
    // A velocity rule that blocks a sender's third message within a minute.
    const rules = join(dir, "rules");
    await mkdir(rules);
    await writeFile(
      join(rules, "velocity.yaml"),
      ["rules:", "  - id: velocity.test-rate", "    description: more than 2 messages a minute", "    kind: velocity", "    metric: messages", "    threshold: 2",
        "    windowSeconds: 60", "    score: 1", "    category: AD_Other", "    action: block", "    enabled: true", "    owner: test", "    version: 1", ""].join("\n"),
    );
    const chat = ["今晚一起吃饭吗", "明天几点出发", "到家了吗", "作业写完了吗", "周末去爬山吧", "我在楼下等你", "电影几点开始", "记得带伞"];
    const data = join(dir, "chat.tsv");
    await writeFile(data, chat.map((t) => `ham\t${t}`).join("\n") + "\n");

    const s = io(chat.join("\n") + "\n");
    expect(await main(["score", "--model", model, "--rules", rules, "--source", "13912345678"], s)).toBe(0);
    const verdicts = s.out().trim().split("\n").map((l) => VerdictV1.parse(JSON.parse(l)));
    expect(verdicts).toHaveLength(chat.length);
    expect(verdicts.flatMap((v) => v.contributions.map((c) => c.id)).filter((id) => id.startsWith("velocity."))).toEqual([]);

    const called = async (extra: string[]) => {
      const e = io();
      expect(await main(["eval", "--model", model, "--data", data, "--rules", rules, "--json", ...extra], e)).toBe(0);
      const classes = (JSON.parse(e.out()) as { classes: { label: string; kind: string; called: number }[] }).classes;
      return classes.find((c) => c.label === "ham" && c.kind === "all")!.called;
    };
    expect(await called(["--source", "13912345678"])).toBe(await called([]));
  });

  it("stops quietly when its reader goes away (spam score … | head -1)", async () => {
    const { model } = await trainedModel();
    const child = spawn(process.execPath, [fileURLToPath(new URL("../dist/main.js", import.meta.url)), "score", "--model", model], { stdio: ["pipe", "pipe", "pipe"] });
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    // Closing our end of its stdout after the first verdict is what `head -1` does.
    child.stdout.once("data", () => child.stdout.destroy());
    child.stdin.on("error", () => undefined);
    child.stdin.end(Array.from({ length: 20_000 }, (_, i) => `今晚吃饭吗 ${i}`).join("\n") + "\n");
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(err).toBe("");
    expect(code).toBe(0);
  }, 60_000);

  it("refuses to cross-validate or evaluate a file it cannot score, saying what it holds, instead of a report of nulls", async () => {
    const dir = await mkdtemp(join(tmpdir(), "spam-cli-"));
    const onlyHam = join(dir, "ham.tsv");
    await writeFile(onlyHam, "ham\t今晚一起吃饭吗\nham\t明天几点出发\n");
    const empty = join(dir, "empty.tsv");
    await writeFile(empty, "");
    for (const data of [onlyHam, empty]) {
      const c = io();
      expect(await main(["cv", "--data", data, "--no-embedding"], c)).toBe(1);
      expect(c.out()).toBe("");
      expect(c.err()).toMatch(/needs spam and ham rows, or rows with a category \(it has \d+ spam, \d+ ham, 0 with a category\)/);
    }
    const { model } = await trainedModel();
    const e = io();
    expect(await main(["eval", "--model", model, "--data", empty], e)).toBe(1);
    expect(e.out()).toBe("");
    expect(e.err()).toContain("no labelled rows to evaluate");
  });

  it("rejects bad usage with exit code 2", async () => {
    const a = io();
    expect(await main(["train", "--out", "x"], a)).toBe(2);
    expect(a.err()).toContain("--data is required");
    expect(await main(["nope"], io())).toBe(2);
    expect(await main(["eval", "--bogus"], io())).toBe(2);
    const b = io();
    expect(await main(["cv", "--data", "x.tsv", "--latin-views", "--no-latin-views"], b)).toBe(2);
    expect(b.err()).toContain("--no- form");
  });

  it("answers --help on every command with its usage, exit 0, reading no data", async () => {
    const names = ["train", "eval", "score", "cv", "parse-report"];
    for (const name of names) {
      for (const flag of ["--help", "-h"]) {
        const h = io();
        expect(await main([name, flag], h)).toBe(0);
        expect(h.out()).toContain(`usage: spam ${name}`);
        expect(h.err()).toBe("");
      }
    }
  });
});
