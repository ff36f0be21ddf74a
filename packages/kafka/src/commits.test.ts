import pino from "pino";
import { describe, expect, it } from "vitest";
import { coalescedCommits, CommitTracker, type CommittedBatch, type PartitionOffset } from "./commits.js";
import { PartitionPipeline, type InFlightBatch } from "./pipeline.js";

const logger = pino({ level: "silent" });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tracker(commit: (offset: bigint) => Promise<void> = async () => undefined) {
  const sent: bigint[] = [];
  const committed: CommittedBatch[] = [];
  const t = new CommitTracker({
    logger,
    intervalMs: 20,
    background: () => true,
    commit: async (_topic, _partition, offset) => {
      sent.push(offset);
      await commit(offset);
    },
    onCommitted: (b) => committed.push(b),
  });
  return { t, sent, committed };
}

describe("CommitTracker", () => {
  it("commits the batches a partition handled within one interval together, with their total size", async () => {
    const { t, sent, committed } = tracker();
    for (const next of [10n, 20n, 30n]) t.schedule(t.markHandled("t", 0, next, 0, 10));
    await sleep(60);
    expect(sent).toEqual([30n]);
    expect(committed).toEqual([{ topic: "t", partition: 0, count: 30 }]);
  });

  it("never moves a partition's pending offset back", async () => {
    const { t, sent } = tracker();
    t.markHandled("t", 0, 30n, 0, 1);
    await t.flush(t.markHandled("t", 0, 20n, 0, 1), true);
    expect(sent).toEqual([30n]);
  });

  it("an awaited commit that fails throws; a background one is superseded by the next", async () => {
    let fail = true;
    const { t, sent } = tracker(async () => {
      if (fail) throw new Error("rebalancing");
    });
    await expect(t.flush(t.markHandled("t", 1, 5n, 0, 1), true)).rejects.toThrow("rebalancing");
    t.schedule(t.markHandled("t", 1, 7n, 0, 1));
    await sleep(40); // fails in the background: logged
    fail = false;
    t.schedule(t.markHandled("t", 1, 9n, 0, 1));
    await sleep(40);
    expect(sent).toEqual([5n, 7n, 9n]);
  });
});

describe("PartitionPipeline", () => {
  const batch = (first: bigint, next: bigint): InFlightBatch => ({ firstOffset: first, next, leaderEpoch: 0, count: Number(next - first), settled: false });

  it("counts a batch as done only once every batch before it resolved, in offset order", async () => {
    const done: bigint[] = [];
    const p = new PartitionPipeline(logger, { onSettled: (b) => done.push(b.next), onFailed: () => expect.fail("no failure") });
    let releaseFirst!: () => void;
    const first = new Promise<void>((r) => (releaseFirst = r));
    await p.handOver(first, batch(0n, 10n), 3, { topic: "t", partition: 0 });
    await p.handOver(Promise.resolve(), batch(10n, 20n), 3, { topic: "t", partition: 0 });
    await sleep(5);
    expect(done).toEqual([]); // the second resolved, the first has not
    releaseFirst();
    expect(await p.settle()).toBe(true);
    expect(done).toEqual([10n, 20n]);
  });

  it("a failure sends the partition back to the earliest batch not settled, and later successes no longer count", async () => {
    const done: bigint[] = [];
    const failures: bigint[] = [];
    const p = new PartitionPipeline(logger, { onSettled: (b) => done.push(b.next), onFailed: (_e, _b, from) => failures.push(from) });
    let releaseFirst!: () => void;
    await p.handOver(new Promise<void>((r) => (releaseFirst = r)), batch(0n, 10n), 3, { topic: "t", partition: 0 });
    await p.handOver(Promise.reject(new Error("down")), batch(10n, 20n), 3, { topic: "t", partition: 0 });
    await sleep(5);
    releaseFirst();
    expect(await p.settle()).toBe(false);
    expect(failures).toEqual([0n]);
    expect(done).toEqual([]);
  });
});

describe("coalescedCommits", () => {
  it("sends the commits asked for in one turn of the event loop as one request, the highest offset per partition", async () => {
    const requests: PartitionOffset[][] = [];
    const commit = coalescedCommits(async (offsets) => void requests.push(offsets));
    await Promise.all([commit("t", 0, 10n, 1), commit("t", 1, 5n, 1), commit("t", 0, 12n, 1), commit("u", 0, 3n, 2), commit("t", 0, 11n, 1)]);
    expect(requests).toEqual([
      [
        { topic: "t", partition: 0, offset: 12n, leaderEpoch: 1 },
        { topic: "t", partition: 1, offset: 5n, leaderEpoch: 1 },
        { topic: "u", partition: 0, offset: 3n, leaderEpoch: 2 },
      ],
    ]);
    await commit("t", 0, 20n, 1);
    expect(requests).toHaveLength(2);
    expect(requests[1]).toEqual([{ topic: "t", partition: 0, offset: 20n, leaderEpoch: 1 }]);
  });

  it("a failed request rejects every commit it carried, and the next request is a new one", async () => {
    let fail = true;
    const requests: PartitionOffset[][] = [];
    const commit = coalescedCommits(async (offsets) => {
      requests.push(offsets);
      if (fail) throw new Error("coordinator moved");
    });
    const results = await Promise.allSettled([commit("t", 0, 1n, 0), commit("t", 1, 1n, 0)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    fail = false;
    await expect(commit("t", 0, 2n, 0)).resolves.toBeUndefined();
    expect(requests.map((r) => r.length)).toEqual([2, 1]);
  });

  it("a consumer's tracker commits its partitions' pending offsets through one request when flushed together", async () => {
    const requests: PartitionOffset[][] = [];
    const t = new CommitTracker({
      logger,
      intervalMs: 20,
      background: () => true,
      commit: coalescedCommits(async (offsets) => void requests.push(offsets)),
      onCommitted: () => undefined,
    });
    for (let p = 0; p < 6; p++) t.markHandled("t", p, BigInt(p + 1), 0, 1);
    await t.flushAll();
    expect(requests).toHaveLength(1);
    expect(requests[0]?.map((o) => o.partition)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("in the background, the partitions handled within one interval share one request", async () => {
    const requests: PartitionOffset[][] = [];
    const t = new CommitTracker({
      logger,
      intervalMs: 30,
      background: () => true,
      commit: coalescedCommits(async (offsets) => void requests.push(offsets)),
      onCommitted: () => undefined,
    });
    t.schedule(t.markHandled("t", 0, 5n, 0, 1));
    await sleep(10);
    t.schedule(t.markHandled("t", 1, 7n, 0, 1));
    t.schedule(t.markHandled("t", 0, 9n, 0, 1));
    await sleep(80);
    expect(requests).toEqual([
      [
        { topic: "t", partition: 0, offset: 9n, leaderEpoch: 0 },
        { topic: "t", partition: 1, offset: 7n, leaderEpoch: 0 },
      ],
    ]);
  });
});
