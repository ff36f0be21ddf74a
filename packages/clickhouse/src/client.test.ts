import { describe, expect, it } from "vitest";
import { restrictedDatabase, splitClickHouseUrl } from "./client.js";

describe("ClickHouse connection settings", () => {
  it("takes credentials out of the URL, decoded", () => {
    expect(splitClickHouseUrl("http://spam_app:p%40ss%3Aw0rd@clickhouse:8123")).toEqual({ url: "http://clickhouse:8123", username: "spam_app", password: "p@ss:w0rd" });
    expect(splitClickHouseUrl("http://reader@clickhouse:8123/")).toEqual({ url: "http://clickhouse:8123", username: "reader", password: "" });
  });

  it("leaves a URL without credentials as it is", () => {
    expect(splitClickHouseUrl("http://127.0.0.1:18123")).toEqual({ url: "http://127.0.0.1:18123" });
  });

  it("names the restricted store after the platform's database", () => {
    expect(restrictedDatabase("spam")).toBe("spam_restricted");
  });
});
