import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase } from "./testing/postgres.js";

/** The built service as a process: starts, serves, and on SIGTERM drains and exits 0. */
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
let db: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  db = await createTestDatabase("main");
});
afterAll(async () => {
  await db?.drop();
});

describe("api process", () => {
  it("fails fast naming a bad variable", async () => {
    const child = spawn(process.execPath, [MAIN], { env: { ...process.env, API_PORT: "not-a-port", DATABASE_URL: db.url } });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toContain("API_PORT");
  });

  it("serves /readyz and exits 0 on SIGTERM", async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, API_PORT: "0", DATABASE_URL: db.url, KAFKA_BROKERS: "", CLICKHOUSE_URL: "", LOG_LEVEL: "info" },
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listen line: ${out}`)), 30_000);
      child.stdout.on("data", () => {
        const m = /"url":"(http:\/\/[^"]+)"/.exec(out);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(0);
    expect(out).toContain("draining");
  });
});
