import { describe, expect, it } from "vitest";
import { escapeString, ident, sql, SqlEncodingError, v } from "./sql.js";

describe("escapeString", () => {
  it("escapes quotes, backslashes and control characters", () => {
    expect(escapeString(`a'b\\c`)).toBe(`a\\'b\\\\c`);
    expect(escapeString("x\0y\n\t\r")).toBe("x\\0y\\n\\t\\r");
    expect(escapeString("\x01\x7f")).toBe("\\x01\\x7f");
  });
  it("leaves CJK and emoji alone", () => {
    expect(escapeString("发票😀")).toBe("发票😀");
  });
});

describe("encoders", () => {
  it("encodes integers within their type's range only", () => {
    expect(v.uint64(18_446_744_073_709_551_615n).text).toBe("18446744073709551615");
    expect(v.int64(-5).text).toBe("(-5)");
    expect(() => v.uint32(-1)).toThrow(SqlEncodingError);
    expect(() => v.int("UInt8")(256)).toThrow(SqlEncodingError);
    expect(() => v.int64(1.5)).toThrow(SqlEncodingError);
  });
  it("encodes floats including non-finite values", () => {
    expect(v.float64(1.25).text).toBe("1.25");
    expect(v.float64(-2).text).toBe("(-2)");
    expect(v.float64(Number.NaN).text).toBe("nan");
    expect(v.float64(-Infinity).text).toBe("-inf");
  });
  it("encodes date-times as unix seconds and dates as UTC days", () => {
    expect(v.dateTime(new Date("2026-01-02T03:04:05.678Z")).text).toBe("toDateTime(1767323045)");
    expect(v.date(Date.UTC(2026, 10, 23, 23, 59)).text).toBe("toDate('2026-11-23')");
    expect(() => v.dateTime(Number.NaN)).toThrow(SqlEncodingError);
  });
  it("encodes arrays and nullables, typing the empty array", () => {
    expect(v.array(v.string, "String")(["a", "b'"]).text).toBe(`['a', 'b\\'']`);
    expect(v.array(v.string, "String")([]).text).toBe("CAST([] AS Array(String))");
    expect(v.nullable(v.string)(null).text).toBe("NULL");
    expect(v.nullable(v.uint32)(7).text).toBe("7");
  });
  it("refuses identifiers that are not plain names", () => {
    expect(ident("verdicts").text).toBe("`verdicts`");
    expect(() => ident("verdicts; DROP TABLE x")).toThrow(SqlEncodingError);
    expect(() => ident("a`b")).toThrow(SqlEncodingError);
  });
});

describe("sql tag", () => {
  it("splices encoded fragments", () => {
    expect(sql`SELECT ${v.string("x")}, ${v.uint32(1)}`.text).toBe("SELECT 'x', 1");
  });
  it("refuses a bare string at run time", () => {
    const bare = "1; DROP TABLE verdicts" as unknown as ReturnType<typeof v.string>;
    expect(() => sql`SELECT ${bare}`).toThrow(SqlEncodingError);
  });
});
