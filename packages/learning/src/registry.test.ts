import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_PIPELINE_OPTIONS, serializeModel, trainModel } from "@spam/classifier";
import { ModelRegistry } from "./registry.js";

const opts = { ...DEFAULT_PIPELINE_OPTIONS, latinStack: null, calibrationFolds: 2, features: { ...DEFAULT_PIPELINE_OPTIONS.features, bits: 12 } };
function model(extra: string): string {
  const ex = (text: string, spam: boolean) => ({ text, raw: text, spam, category: null });
  return serializeModel(
    trainModel([ex("中奖了请点击链接领取", true), ex("代开发票联系我", true), ex(extra, true), ex("明天开会带资料", false), ex("晚上回家吃饭", false), ex("快递到了请取件", false)], opts, undefined, {
      data: [{ file: `fixtures/${extra}.tsv`, rows: 6, spam: 3, ham: 3 }],
    }),
  );
}

describe("ModelRegistry", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "registry-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("registers by content hash with a card (data, metrics, date, parent); promote, shadow and rollback keep a history", async () => {
    const reg = new ModelRegistry(dir);
    const a = await reg.add(model("网贷秒批"), {});
    expect(a.parent).toBeNull();
    expect(a.data).toEqual([{ file: "fixtures/网贷秒批.tsv", rows: 6, spam: 3, ham: 3 }]);
    await reg.promote(a.id, "admin:ann");
    const b = await reg.add(model("刷单返利"), { metrics: { "holdout.tsv": { candidate: { recall: 1 }, live: { recall: 0.5 } } } });
    expect(b.parent).toBe(a.id);
    expect(await readFile(join(dir, "models", `${b.id}.card.md`), "utf8")).toMatch(new RegExp(`parent: ${a.id}[\\s\\S]*holdout.tsv`));
    expect((await reg.setShadow(b.id, "admin:ann")).shadow).toBe(b.id);
    const promoted = await reg.promote(b.id, "admin:bob");
    expect(promoted).toMatchObject({ live: b.id, shadow: null, liveHistory: [a.id, b.id] });
    const back = await reg.rollback("admin:bob");
    expect(back).toMatchObject({ live: a.id, liveHistory: [a.id] });
    expect(back.changes.map((c) => [c.action, c.by, c.from, c.to])).toEqual([
      ["promote", "admin:ann", null, a.id],
      ["shadow", "admin:ann", null, b.id],
      ["promote", "admin:bob", a.id, b.id],
      ["rollback", "admin:bob", b.id, a.id],
    ]);
    expect((await reg.list()).map((m) => [m.id, m.live])).toEqual(expect.arrayContaining([[a.id, true], [b.id, false]]));
    await expect(reg.rollback("admin:bob")).rejects.toThrow(/nothing to roll back to/);
  });

  it("refuses ids that are not content hashes, unknown versions, and a file that no longer hashes to its id", async () => {
    const reg = new ModelRegistry(dir);
    await expect(reg.promote("../../etc/passwd", "x")).rejects.toThrow(/not a model id/);
    await expect(reg.promote("0123456789abcdef", "x")).rejects.toThrow(/no model/);
    const a = await reg.add(model("网贷秒批"), {});
    const file = reg.modelPath(a.id);
    const tampered = JSON.parse(await readFile(file, "utf8")) as { binary: { bias: number } };
    tampered.binary.bias += 1;
    await writeFile(file, JSON.stringify(tampered));
    await expect(reg.promote(a.id, "x")).rejects.toThrow(/does not match/);
    expect((await reg.state()).live).toBeNull();
  });
});
