import pino from "pino";
import { describe, expect, it } from "vitest";
import { CampaignCountsV1, type CampaignCounts } from "@spam/contracts";
import type { OutgoingMessage } from "@spam/kafka";
import { campaignCountsQuery, CampaignCountsPublisher, type CampaignCountsSource, type CampaignScope } from "./campaign-counts.js";

const T0 = 1_790_000_000_000;
const WINDOW = 600_000;
const logger = pino({ level: "silent" });

interface Campaign {
  counts: CampaignCounts;
  /** Active in the last few seconds (what a fast tick discovers). */
  recent: boolean;
  /** Active within the window (what a sweep discovers). */
  inWindow: boolean;
}

function counts(campaignId: string, senders: number, extra: Partial<CampaignCounts> = {}): CampaignCounts {
  return {
    v: 1, campaignId, messages: senders * 2, senders, recipients: senders * 3, reports: 0,
    firstSeen: T0 - 60_000, lastSeen: T0, since: T0 - 3_600_000, computedAt: T0, sizedAt: T0, ...extra,
  };
}

/** A publisher over a scripted ClickHouse (the campaigns as the aggregates have them) and a recording broker. */
function harness(maxCampaigns = 100) {
  const world = new Map<string, Campaign>();
  const fullScopes: CampaignScope[] = [];
  let failQuery = false;
  let failSend = false;
  const sent: OutgoingMessage[][] = [];
  let clock = T0;
  const source: CampaignCountsSource = {
    async boost(now, from) {
      if (failQuery) throw new Error("ClickHouse down");
      expect(from).toBe(now - 20_000);
      return [...world.values()].filter((c) => c.recent).map((c) => ({ ...c.counts, messages: 0, recipients: 0, computedAt: now, sizedAt: 0 }));
    },
    async full(now, scope) {
      if (failQuery) throw new Error("ClickHouse down");
      fullScopes.push(scope);
      if ("from" in scope) expect(scope.from).toBe(now - WINDOW);
      const inScope = (id: string) => ("keys" in scope ? scope.keys.includes(id) : true);
      return [...world.values()].filter((c) => c.inWindow && inScope(c.counts.campaignId)).map((c) => ({ ...c.counts, computedAt: now, sizedAt: now }));
    },
  };
  const publisher = new CampaignCountsPublisher({
    topic: "t.sms.campaigns.counts",
    source,
    send: async (messages) => {
      if (failSend) throw new Error("broker down");
      sent.push(messages);
    },
    windowMs: WINDOW,
    maxCampaigns,
    recentMs: 20_000,
    logger,
    now: () => (clock += 5_000),
  });
  const set = (id: string, senders: number, o: { recent?: boolean; inWindow?: boolean; extra?: Partial<CampaignCounts> } = {}) =>
    world.set(id, { counts: counts(id, senders, o.extra), recent: o.recent ?? true, inWindow: o.inWindow ?? true });
  /** [key, senders, messages] per record of the last send; null for a tombstone. */
  const lastSent = () => (sent.at(-1) ?? []).map((m) => (m.value === null ? [m.key, null] : [m.key, (m.value as CampaignCounts).senders, (m.value as CampaignCounts).messages]));
  return {
    publisher, sent, lastSent, set, world, fullScopes,
    failQuery: (on: boolean) => (failQuery = on),
    failSend: (on: boolean) => (failSend = on),
  };
}

describe("CampaignCountsPublisher", () => {
  it("a sweep publishes every active campaign with all counts, keyed by campaign id, then only changes", async () => {
    const h = harness();
    h.set("ca", 30);
    h.set("cb", 5, { recent: false });
    expect(await h.publisher.sweep()).toEqual({ kind: "sweep", counted: 2, published: 2, tombstoned: 0 });
    expect(h.lastSent()).toEqual([["ca", 30, 60], ["cb", 5, 10]]);
    for (const m of h.sent[0]!) {
      expect(m.topic).toBe("t.sms.campaigns.counts");
      expect(CampaignCountsV1.parse(m.value).campaignId).toBe(m.key);
    }
    // Same counts (only the computation time moved): nothing to send.
    expect(await h.publisher.sweep()).toMatchObject({ published: 0, tombstoned: 0 });
    expect(h.sent).toHaveLength(1);
    // A sweep also publishes a change in messages or recipients alone.
    h.set("cb", 5, { recent: false, extra: { recipients: 99 } });
    await h.publisher.sweep();
    expect(h.lastSent()).toEqual([["cb", 5, 10]]);
  });

  it("a fast tick refreshes senders and reports of the recently active campaigns only, keeping the swept sizes", async () => {
    const h = harness();
    h.set("ca", 30);
    h.set("cb", 5, { recent: false });
    await h.publisher.sweep();
    const sweptAt = (h.sent[0]![0]!.value as CampaignCounts).sizedAt;

    // ca gained senders and a report; cb changed too but was not active in the last seconds.
    h.set("ca", 31, { extra: { reports: 1, messages: 70 } });
    h.set("cb", 6, { recent: false });
    expect(await h.publisher.tick()).toEqual({ kind: "fast", counted: 1, published: 1, tombstoned: 0 });
    const record = h.sent.at(-1)![0]!.value as CampaignCounts;
    expect(record).toMatchObject({ campaignId: "ca", senders: 31, reports: 1, messages: 60, recipients: 90, sizedAt: sweptAt });
    expect(record.computedAt).toBeGreaterThan(sweptAt);
    // No full count was needed for campaigns already published.
    expect(h.fullScopes).toEqual([{ from: sweptAt - WINDOW }, { keys: [] }]);

    // Unchanged senders and reports: nothing, even though the messages grew (the sweep publishes that).
    expect(await h.publisher.tick()).toMatchObject({ published: 0 });
    await h.publisher.sweep();
    expect(h.lastSent()).toEqual([["ca", 31, 70], ["cb", 6, 12]]);
  });

  it("a fast tick publishes a campaign it has not published before with its full counts", async () => {
    const h = harness();
    h.set("ca", 30);
    await h.publisher.sweep();
    h.set("cnew", 3);
    expect(await h.publisher.tick()).toMatchObject({ published: 1 });
    expect(h.fullScopes.at(-1)).toEqual({ keys: ["cnew"] });
    expect(h.lastSent()).toEqual([["cnew", 3, 6]]);
  });

  it("a sweep tombstones campaigns that are no longer active, once; a fast tick never does", async () => {
    const h = harness();
    h.set("ca", 30);
    h.set("cb", 5);
    await h.publisher.sweep();
    h.world.get("cb")!.recent = false;
    h.world.get("cb")!.inWindow = false;
    expect(await h.publisher.tick()).toMatchObject({ published: 0, tombstoned: 0 });
    expect(await h.publisher.sweep()).toMatchObject({ published: 0, tombstoned: 1 });
    expect(h.sent.at(-1)).toEqual([{ topic: "t.sms.campaigns.counts", key: "cb", value: null }]);
    expect(h.publisher.size).toBe(1);
    await h.publisher.sweep();
    expect(h.sent).toHaveLength(2);
    // Active again later: published again.
    h.set("cb", 6);
    await h.publisher.tick();
    expect(h.lastSent()).toEqual([["cb", 6, 12]]);
  });

  it("after a restart publishes only what changed against the records read back from the topic", async () => {
    const h = harness();
    h.publisher.load("ca", counts("ca", 30));
    h.publisher.load("cb", counts("cb", 5));
    h.publisher.load("cgone", counts("cgone", 4));
    h.publisher.load("cgone", null); // tombstoned before the restart
    h.publisher.load("cstale", counts("cstale", 8)); // stopped while the decider was down
    h.set("ca", 30);
    h.set("cb", 7);
    expect(await h.publisher.sweep()).toMatchObject({ counted: 2, published: 1, tombstoned: 1 });
    expect(h.lastSent()).toEqual([["cb", 7, 14], ["cstale", null]]);
  });

  it("a failed query tombstones nothing and a failed send is redone by the next tick", async () => {
    const h = harness();
    h.set("ca", 30);
    h.set("cb", 5);
    await h.publisher.sweep();
    h.failQuery(true);
    await expect(h.publisher.sweep()).rejects.toThrow("ClickHouse down");
    await expect(h.publisher.tick()).rejects.toThrow("ClickHouse down");
    expect(h.sent).toHaveLength(1);
    h.failQuery(false);

    h.world.delete("cb");
    h.set("ca", 40);
    h.failSend(true);
    await expect(h.publisher.sweep()).rejects.toThrow("broker down");
    h.failSend(false);
    expect(await h.publisher.sweep()).toMatchObject({ published: 1, tombstoned: 1 });
    expect(h.lastSent()).toEqual([["ca", 40, 80], ["cb", null]]);
  });

  it("fast ticks add no campaign beyond the bound", async () => {
    const h = harness(2);
    h.set("ca", 30);
    h.set("cb", 20);
    await h.publisher.sweep();
    h.set("cc", 50);
    expect(await h.publisher.tick()).toMatchObject({ counted: 3, published: 0 });
    expect(h.publisher.size).toBe(2);
  });

  it("start/stop: the first run is a sweep, then fast ticks, never overlapping", async () => {
    const h = harness();
    h.set("ca", 30);
    h.publisher.start(10, 60_000); // the fake clock moves 5 s per tick: a sweep every 12 runs
    await new Promise((r) => setTimeout(r, 100));
    await h.publisher.stop();
    const scopes = h.fullScopes.map((s) => ("from" in s ? "sweep" : "keys"));
    expect(scopes[0]).toBe("sweep");
    expect(scopes.filter((s) => s === "keys").length).toBeGreaterThan(0);
    expect(h.sent).toHaveLength(1); // many runs, one change
    const after = h.fullScopes.length;
    await new Promise((r) => setTimeout(r, 40));
    expect(h.fullScopes).toHaveLength(after);
  });
});

describe("campaignCountsQuery", () => {
  const w = { windowMs: 600_000, minSenders: 2, maxCampaigns: 500 };
  it("encodes every value (no query parameters on 18.16)", () => {
    const q = campaignCountsQuery(T0, w, { from: T0 - 20_000 }, true).text;
    expect(q).toContain(`toStartOfHour(toDateTime(${(T0 - 600_000) / 1000}))`);
    expect(q).toContain(`received_at >= toDateTime(${(T0 - 20_000) / 1000})`);
    expect(q).toContain("uniqExactMerge(message_ids)");
    expect(q).toContain("LIMIT 500");
  });
  it("leaves the large sets out of a boost-only query and quotes listed ids", () => {
    const q = campaignCountsQuery(T0, w, { keys: ["ca", "c'b"] }, false).text;
    expect(q).not.toContain("uniqExactMerge(message_ids)");
    expect(q).not.toContain("uniqExactMerge(recipients)");
    expect(q).toContain("campaign_key IN ('ca', 'c\\'b')");
  });
});
