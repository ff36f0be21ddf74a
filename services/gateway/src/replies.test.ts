import { describe, expect, it } from "vitest";
import type { OutboundReply } from "@spam/contracts";
import { deliverInLanes } from "./replies.js";

const reply = (to: string, n: number): OutboundReply => ({
  v: 1,
  id: `r-${to}-${n}`,
  reportId: null,
  to,
  from: "10086999",
  kind: n === 0 ? "ack" : "outcome",
  text: `reply ${n}`,
  createdAt: 0,
}) as OutboundReply;

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("deliverInLanes", () => {
  it("serves many recipients at once, up to the lane count, each recipient in order", async () => {
    const replies = Array.from({ length: 20 }, (_, i) => reply(`1380000000${i % 10}`, Math.floor(i / 10)));
    let inFlight = 0;
    let maxInFlight = 0;
    const delivered: string[] = [];
    await deliverInLanes(replies, 4, async (r) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await tick(5);
      delivered.push(r.id);
      inFlight--;
    });
    expect(delivered).toHaveLength(20);
    expect(maxInFlight).toBe(4);
    for (let i = 0; i < 10; i++) {
      const to = `1380000000${i}`;
      expect(delivered.indexOf(`r-${to}-0`)).toBeLessThan(delivered.indexOf(`r-${to}-1`));
    }
  });

  it("never delivers a recipient's second reply while its first is in flight", async () => {
    const replies = [reply("13800000001", 0), reply("13800000001", 1), reply("13800000002", 0)];
    const active = new Set<string>();
    await deliverInLanes(replies, 8, async (r) => {
      expect(active.has(r.to)).toBe(false);
      active.add(r.to);
      await tick(3);
      active.delete(r.to);
    });
  });

  it("rejects with the failure and starts no further recipients after it", async () => {
    const replies = Array.from({ length: 6 }, (_, i) => reply(`1380000000${i}`, 0));
    const started: string[] = [];
    const run = deliverInLanes(replies, 2, async (r) => {
      started.push(r.to);
      await tick(2);
      if (r.to === "13800000000") throw new Error("no receiver");
    });
    await expect(run).rejects.toThrow("no receiver");
    expect(started.length).toBeLessThan(6);
  });

  it("does nothing for an empty batch", async () => {
    let calls = 0;
    await deliverInLanes([], 4, async () => void calls++);
    expect(calls).toBe(0);
  });
});
