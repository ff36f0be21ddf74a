import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, type CommandIo } from "../index.js";

function io(): CommandIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let o = "";
  let e = "";
  stdout.on("data", (d: Buffer) => (o += d.toString()));
  stderr.on("data", (d: Buffer) => (e += d.toString()));
  return { stdout, stderr, stdin: Readable.from([""]), out: () => o, err: () => e };
}

const TRAIN = ["ham\t今晚一起吃饭吗老地方见", "ham\t明天的会议改到下午三点了", "ham\t到家了没有到了回个消息", "spam\t无抵押信用贷款当天放款详询", "spam\t代开各类发票点数优惠", "spam\t澳门线上赌场注册即送彩金"].join("\n");

describe("spam rules / dataset / models", () => {
  let dir: string;
  // The commands read these when no flag is given: nothing here may reach the shared stores or broker.
  const saved = { ...process.env };
  beforeAll(async () => {
    for (const k of ["CLICKHOUSE_URL", "MODEL_REGISTRY_DIR", "KAFKA_BROKERS", "TOPIC_PREFIX"]) delete process.env[k];
    dir = await mkdtemp(join(tmpdir(), "spam-models-cli-"));
    await writeFile(join(dir, "train.tsv"), `${TRAIN}\n`);
  });
  afterAll(async () => {
    Object.assign(process.env, saved);
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses bad arguments with the usage (exit 2), before touching any store", async () => {
    for (const argv of [
      ["rules", "bakctest"],
      ["rules", "backtest", "--days", "7"],
      ["rules", "backtest", "--rules", "rules", "--days", "0"],
      ["rules", "backtest", "--rules", "rules", "--days", "7"], // no ClickHouse given
      ["dataset", "export"],
      ["dataset", "export", "--out", dir, "--holdout-weeks", "-1"],
      ["models", "promote", "0123456789abcdef"], // no registry given
      ["models", "promote", "--registry", dir],
      ["models", "frobnicate"],
    ]) {
      const o = io();
      expect(await main(argv, o), argv.join(" ")).toBe(2);
      expect(o.err()).toContain("usage:");
    }
  });

  it("registers, promotes and rolls back through the CLI; a path for an id is refused (exit 1)", async () => {
    const registry = join(dir, "registry");
    const ids: string[] = [];
    for (const c of ["3", "1"]) {
      const o = io();
      expect(await main(["train", "--data", join(dir, "train.tsv"), "--out", join(dir, `m${c}.json`), "--no-embedding", "--c", c], o)).toBe(0);
      ids.push((JSON.parse(o.out()) as { modelVersion: string }).modelVersion);
      expect(await main(["models", "add", "--model", join(dir, `m${c}.json`), "--registry", registry], io())).toBe(0);
    }
    for (const id of ids) {
      const o = io();
      expect(await main(["models", "promote", id, "--registry", registry, "--by", "ops"], o)).toBe(0);
      expect(o.err()).toContain("next start"); // no brokers given
    }
    const back = io();
    expect(await main(["models", "rollback", "--registry", registry], back)).toBe(0);
    expect(JSON.parse(back.out())).toEqual({ live: ids[0], shadow: null, previous: null });
    const listed = io();
    expect(await main(["models", "list", "--registry", registry], listed)).toBe(0);
    expect(listed.out()).toMatch(new RegExp(`${ids[0]}\\s+LIVE`));
    const bad = io();
    expect(await main(["models", "promote", "../../etc", "--registry", registry], bad)).toBe(1);
    expect(bad.err()).toContain("not a model id");
  });
});
