import { describe, expect, it } from "vitest";
import { CampaignTracker, maskForCampaign } from "./campaigns.js";
import { DistinctCounter } from "./hll.js";

const template = (i: number): string =>
  `【鑫融金融】无抵押信用贷款最高可贷${10 + (i % 40)}万，当天放款，详询13${String(100000000 + i * 7919).slice(0, 9)}或访问 dk${1000 + i}.cn`;

describe("CampaignTracker", () => {
  it("puts one template from 50 senders with varying digits into one campaign", () => {
    const t = new CampaignTracker();
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const c = t.observe({ text: template(i), sender: `1380000${1000 + i}`, recipient: `1390000${2000 + i}`, at: 1000 + i });
      ids.add(c!.campaignId);
    }
    expect(ids.size).toBe(1);
    const counts = t.get([...ids][0]!)!;
    expect(counts.messages).toBe(50);
    expect(counts.senders).toBe(50);
    expect(counts.recipients).toBe(50);
  });

  it("keeps different templates apart", () => {
    const t = new CampaignTracker();
    const a = t.observe({ text: template(1), sender: "a", recipient: "r", at: 1 })!;
    const b = t.observe({ text: "本公司长期代开各类发票，增值税普票专票，点数优惠，联系电话13912345678", sender: "b", recipient: "r", at: 2 })!;
    const c = t.observe({ text: "澳门首家线上赌场上线，注册即送888元彩金，日赢万元不是梦，网址 bet1234.com", sender: "c", recipient: "r", at: 3 })!;
    expect(new Set([a.campaignId, b.campaignId, c.campaignId]).size).toBe(3);
  });

  it("counts reports against the campaign of the reported text", () => {
    const t = new CampaignTracker();
    const c = t.observe({ text: template(3), sender: "a", recipient: "r", at: 1 })!;
    expect(t.report(template(9))?.campaignId).toBe(c.campaignId);
    expect(t.get(c.campaignId)?.reports).toBe(1);
    expect(t.report("完全无关的一条消息内容，和贷款没有关系")).toBeNull();
  });

  it("gives short texts no campaign", () => {
    expect(new CampaignTracker().observe({ text: "好的", sender: "a", recipient: "b", at: 1 })).toBeNull();
  });

  it("evicts the least recently touched campaigns beyond the bound", () => {
    const distinct = (i: number): string =>
      Array.from({ length: 20 }, (_, j) => String.fromCharCode(0x4e00 + ((i * 7919 + j * 104_729) % 20_000))).join("");
    const t = new CampaignTracker({ maxCampaigns: 10 });
    const ids = Array.from({ length: 10 }, (_, i) => t.observe({ text: distinct(i), sender: "s", recipient: "r", at: i })!.campaignId);
    expect(new Set(ids).size).toBe(10);
    t.observe({ text: distinct(0), sender: "s", recipient: "r", at: 20 }); // touch the oldest
    t.observe({ text: distinct(10), sender: "s", recipient: "r", at: 21 });
    expect(t.size).toBeLessThanOrEqual(10);
    expect(t.get(ids[0]!)?.messages).toBe(2);
    expect(t.get(ids[1]!)).toBeNull();
  });

  it("survives snapshot and restore", () => {
    const t = new CampaignTracker();
    for (let i = 0; i < 10; i++) t.observe({ text: template(i), sender: `s${i}`, recipient: "r", at: i });
    const restored = CampaignTracker.restore(JSON.parse(JSON.stringify(t.snapshot())));
    const c = restored.observe({ text: template(99), sender: "s0", recipient: "r", at: 100 })!;
    expect(c.messages).toBe(11);
    expect(c.senders).toBe(10);
    expect(() => CampaignTracker.restore({ v: 2 })).toThrow();
  });
});

describe("masking and distinct counts", () => {
  it("masks urls, numbers and ids", () => {
    expect(maskForCampaign("加微信 sd123456，访问 abc.cn/x 电话13912345678")).toBe(maskForCampaign("加微信 qq99，访问 zzz.com 电话13800000000"));
  });
  it("estimates large distinct counts within a few percent", () => {
    const c = new DistinctCounter();
    for (let i = 0; i < 20_000; i++) c.add(`sender-${i}`);
    expect(Math.abs(c.count() - 20_000) / 20_000).toBeLessThan(0.06);
  });
});

describe("maskForCampaign on pathological texts (issue 17, finding 5)", () => {
  /** The least of a few timings: the run least disturbed by other processes on the machine. */
  const minMs = (f: () => void): number => {
    let best = Infinity;
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      f();
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  };
  const fill = (unit: string, chars: number) => unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);

  for (const unit of [`a.${"b".repeat(30)}`, `${"a-".repeat(30)}a.`, "abcdefgh"]) {
    it(`costs linear time on ${JSON.stringify(unit.slice(0, 12))}…`, () => {
      // Not a wall-clock race: one pass over 8n characters against eight over n. Linear ≈ 1,
      // quadratic ≈ 8 (the unanchored patterns cost the scorer about a second on 20 KB).
      const small = fill(unit, 2_500);
      const large = fill(unit, 20_000);
      for (let i = 0; i < 3; i++) maskForCampaign(small), maskForCampaign(large);
      const ratio = minMs(() => maskForCampaign(large)) / minMs(() => {
        for (let i = 0; i < 8; i++) maskForCampaign(small);
      });
      expect(ratio).toBeLessThan(3);
    });
  }

  it("masks the same with the anchored patterns", () => {
    expect(maskForCampaign("加V abc123 或 www.x.cn/a 或 evil-loan.com.cn 或 a1b2")).toBe("加v0或U或U或0");
  });
});
