import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { main } from "../main.js";

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (d) => (out += String(d)));
  stderr.on("data", (d) => (err += String(d)));
  const code = await main(argv, { stdout, stderr, stdin: new PassThrough() });
  return { code, out, err };
}

describe("spam parse-report", () => {
  it("prints the parse as JSON", async () => {
    const r = await run(["parse-report", "--text", "0755 8765 4321*代开发票", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ reportedNumber: "075587654321", content: "代开发票", status: "complete", error: null });
  });
  it("exits 2 with usage on bad arguments", async () => {
    const r = await run(["parse-report"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("usage");
  });
});
