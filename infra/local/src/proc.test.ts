import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadLocalConfig, ConfigError } from "./config.js";
import { InfraError, readPid, renderTemplate, stopPid, waitFor } from "./proc.js";

describe("renderTemplate", () => {
  it("fills every placeholder", () => {
    expect(renderTemplate("a=${A}\nb=${B_C}", { A: 1, B_C: "x" })).toBe("a=1\nb=x");
  });
  it("fails naming a placeholder without a value", () => {
    expect(() => renderTemplate("${MISSING}", {})).toThrow(/MISSING/);
  });
});

describe("loadLocalConfig", () => {
  it("derives addresses from the ports", () => {
    const c = loadLocalConfig({ KAFKA_PORT: "29092", CLICKHOUSE_HTTP_PORT: "28123" });
    expect(c.kafkaBrokers).toEqual(["127.0.0.1:29092"]);
    expect(c.clickhouseUrl).toBe("http://127.0.0.1:28123");
  });
  it("rejects a bad port or database name with the variable's name", () => {
    expect(() => loadLocalConfig({ KAFKA_PORT: "99999" })).toThrow(ConfigError);
    expect(() => loadLocalConfig({ CLICKHOUSE_DATABASE: "x; DROP" })).toThrow(/CLICKHOUSE_DATABASE/);
  });
});

describe("pid files", () => {
  it("treats a missing or dead pid as stopped", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pid-"));
    expect(readPid(join(dir, "none.pid"))).toBeNull();
    writeFileSync(join(dir, "dead.pid"), "999999999");
    expect(await stopPid(join(dir, "dead.pid"), "dead")).toBe(false);
  });
});

describe("waitFor", () => {
  it("names what did not come up", async () => {
    await expect(waitFor("Thing", async () => false, 300, "See thing.log.")).rejects.toThrow(InfraError);
    await expect(waitFor("Thing", async () => false, 300, "See thing.log.")).rejects.toThrow(/Thing was not ready.*See thing.log/);
  });
});
