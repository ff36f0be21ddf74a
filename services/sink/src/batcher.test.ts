import pino from "pino";
import { describe, expect, it } from "vitest";
import { classifyInsertError, TableBatcher, type SinkRow, type TableBatcherOptions } from "./batcher.js";

const logger = pino({ level: "silent" });
const rows = (n: number, from = 0): SinkRow[] =>
  Array.from({ length: n }, (_, i) => ({ row: { id: `r${from + i}` }, origin: { topic: "t", partition: 0, offset: String(from + i), key: null, value: {} } }));

function batcher(overrides: Partial<TableBatcherOptions> = {}) {
  const inserts: string[][] = [];
  const rejected: { ids: string[]; error: string }[] = [];
  const health: boolean[] = [];
  const b = new TableBatcher({
    table: "t",
    logger,
    maxRows: 1_000,
    lingerMs: 50,
    retryInitialMs: 10,
    retryMaxMs: 40,
    insert: async (_t, r) => {
      inserts.push(r.map((x) => x["id"] as string));
    },
    onRejected: async (r, error) => {
      rejected.push({ ids: r.map((x) => x.row["id"] as string), error });
    },
    onUnhealthy: (u) => health.push(u),
    ...overrides,
  });
  return { b, inserts, rejected, health };
}

describe("TableBatcher", () => {
  it("merges adds from many partitions into one insert and resolves each after it", async () => {
    const { b, inserts } = batcher();
    await Promise.all([b.add(rows(300, 0)), b.add(rows(300, 300)), b.add(rows(300, 600))]);
    expect(inserts).toHaveLength(1);
    expect(inserts[0]).toHaveLength(900);
  });

  it("inserts at once when the row bound is reached", async () => {
    const { b, inserts } = batcher({ maxRows: 500, lingerMs: 60_000 });
    await b.add(rows(600));
    expect(inserts[0]).toHaveLength(600);
  });

  it("a lone row waits only the linger", async () => {
    const { b, inserts } = batcher({ lingerMs: 30 });
    const t0 = Date.now();
    await b.add(rows(1));
    expect(Date.now() - t0).toBeLessThan(500);
    expect(inserts).toEqual([["r0"]]);
  });

  it("rows arriving while an insert is in flight go out together in the next one", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sizes: number[] = [];
    const { b } = batcher({
      lingerMs: 10,
      insert: async (_t, r) => {
        sizes.push(r.length);
        if (sizes.length === 1) await gate;
      },
    });
    const first = b.add(rows(5));
    await new Promise((r) => setTimeout(r, 30));
    const later = [b.add(rows(3, 100)), b.add(rows(4, 200))];
    release();
    await Promise.all([first, ...later]);
    expect(sizes).toEqual([5, 7]);
  });

  it("retries with backoff while the server is down, reports unhealthy, and does not resolve before the insert", async () => {
    let failures = 3;
    let resolved = false;
    const inserts: number[] = [];
    const { b, health } = batcher({
      insert: async (_t, r) => {
        if (failures-- > 0) throw new Error("connect ECONNREFUSED 127.0.0.1:18123");
        inserts.push(r.length);
      },
    });
    const p = b.add(rows(5)).then(() => (resolved = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(resolved).toBe(false);
    await p;
    expect(inserts).toEqual([5]);
    expect(health).toEqual([true, false]);
  });

  it("bisects a rejected insert and hands only the bad rows to onRejected", async () => {
    const stored: string[] = [];
    const { b, rejected } = batcher({
      insert: async (_t, r) => {
        if (r.some((x) => x["id"] === "r7")) throw new Error("Code: 27, e.displayText() = DB::Exception: Cannot parse input");
        stored.push(...r.map((x) => x["id"] as string));
      },
    });
    await b.add(rows(20));
    expect(rejected.map((x) => x.ids)).toEqual([["r7"]]);
    expect(rejected[0]?.error).toContain("Cannot parse input");
    expect(stored.sort()).toEqual(rows(20).map((r) => r.row["id"] as string).filter((id) => id !== "r7").sort());
  });

  it("stop fails waiting callers so their offsets stay uncommitted", async () => {
    const { b } = batcher({ insert: async () => Promise.reject(new Error("socket hang up")) });
    const p = b.add(rows(3));
    await new Promise((r) => setTimeout(r, 50));
    b.stop();
    await expect(p).rejects.toThrow(/stopped/);
  });
});

describe("classifyInsertError", () => {
  it("tells data errors from outages", () => {
    expect(classifyInsertError(new Error("x", { cause: new Error("Code: 53, e.displayText() = DB::Exception: Type mismatch") }))).toBe("rejected");
    expect(classifyInsertError(new Error("connect ECONNREFUSED"))).toBe("transient");
    expect(classifyInsertError(new Error("Code: 252. DB::Exception: Too many parts"))).toBe("transient");
  });
});
