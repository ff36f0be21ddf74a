/**
 * The one place values become SQL text. ClickHouse 18.16 has no server-side
 * query parameters, so every value is encoded here by its ClickHouse type and
 * spliced in through the `sql` tag, which accepts only encoded fragments:
 * a bare string interpolation is a type error and a runtime error.
 */

const FRAGMENT = Symbol("SqlFragment");

export interface SqlFragment {
  readonly [FRAGMENT]: true;
  readonly text: string;
}

export class SqlEncodingError extends Error {
  override readonly name = "SqlEncodingError";
}

function fragment(text: string): SqlFragment {
  return { [FRAGMENT]: true, text };
}

function isSqlFragment(value: unknown): value is SqlFragment {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[FRAGMENT] === true;
}

const ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  "'": "\\'",
  "\0": "\\0",
  "\b": "\\b",
  "\f": "\\f",
  "\r": "\\r",
  "\n": "\\n",
  "\t": "\\t",
};

/** Escapes a string for a single-quoted ClickHouse literal (backslash escapes). */
export function escapeString(value: string): string {
  // Other C0 controls and DEL as \xHH so a literal never carries raw control bytes.
  return value.replace(/[\\'\0\b\f\r\n\t]|[\x01-\x1f\x7f]/g, (ch) => ESCAPES[ch] ?? `\\x${ch.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

const INT_RANGES = {
  UInt8: [0n, 255n],
  UInt16: [0n, 65_535n],
  UInt32: [0n, 4_294_967_295n],
  UInt64: [0n, 18_446_744_073_709_551_615n],
  Int8: [-128n, 127n],
  Int16: [-32_768n, 32_767n],
  Int32: [-2_147_483_648n, 2_147_483_647n],
  Int64: [-9_223_372_036_854_775_808n, 9_223_372_036_854_775_807n],
} as const;
export type IntType = keyof typeof INT_RANGES;

function encodeInt(value: number | bigint, type: IntType): SqlFragment {
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new SqlEncodingError(`${type} value must be a safe integer, got ${value}`);
  }
  const big = BigInt(value);
  const [min, max] = INT_RANGES[type];
  if (big < min || big > max) throw new SqlEncodingError(`${type} value out of range: ${big}`);
  // Negative literals in parentheses so `x - -1` style splicing stays unambiguous.
  return fragment(big < 0n ? `(${big})` : big.toString());
}

function encodeFloat(value: number): SqlFragment {
  if (typeof value !== "number") throw new SqlEncodingError(`Float64 value must be a number`);
  if (Number.isNaN(value)) return fragment("nan");
  if (value === Infinity) return fragment("inf");
  if (value === -Infinity) return fragment("-inf");
  const text = Object.is(value, -0) ? "-0." : String(value);
  return fragment(value < 0 ? `(${text})` : text);
}

function toEpochSeconds(value: Date | number): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (!Number.isFinite(ms)) throw new SqlEncodingError(`invalid date/time: ${String(value)}`);
  const seconds = Math.floor(ms / 1000);
  if (seconds < 0 || seconds > 4_294_967_295) throw new SqlEncodingError(`DateTime out of range: ${String(value)}`);
  return seconds;
}

/** A typed encoder: a function from a JS value to a SQL fragment. */
export type Encoder<T> = (value: T) => SqlFragment;

/** Encoders by ClickHouse type. */
export const v = {
  string: ((value: string) => {
    if (typeof value !== "string") throw new SqlEncodingError("String value must be a string");
    return fragment(`'${escapeString(value)}'`);
  }) as Encoder<string>,
  int: (type: IntType): Encoder<number | bigint> => (value) => encodeInt(value, type),
  uint64: ((value: number | bigint) => encodeInt(value, "UInt64")) as Encoder<number | bigint>,
  uint32: ((value: number | bigint) => encodeInt(value, "UInt32")) as Encoder<number | bigint>,
  int64: ((value: number | bigint) => encodeInt(value, "Int64")) as Encoder<number | bigint>,
  float64: encodeFloat as Encoder<number>,
  bool: ((value: boolean) => fragment(value ? "1" : "0")) as Encoder<boolean>,
  /** DateTime from a Date or epoch milliseconds; second precision (18.16 has no DateTime64). */
  dateTime: ((value: Date | number) => fragment(`toDateTime(${toEpochSeconds(value)})`)) as Encoder<Date | number>,
  /** Date (UTC calendar day) from a Date or epoch milliseconds. */
  date: ((value: Date | number) => {
    const d = new Date(toEpochSeconds(value) * 1000);
    return fragment(`toDate('${d.toISOString().slice(0, 10)}')`);
  }) as Encoder<Date | number>,
  /** Array(T); `elementType` types the empty array, which ClickHouse cannot infer. */
  array:
    <T>(element: Encoder<T>, elementType: string): Encoder<readonly T[]> =>
    (values) => {
      if (!Array.isArray(values)) throw new SqlEncodingError("Array value must be an array");
      if (values.length === 0) return fragment(`CAST([] AS Array(${typeName(elementType)}))`);
      return fragment(`[${values.map((x) => element(x).text).join(", ")}]`);
    },
  nullable:
    <T>(inner: Encoder<T>): Encoder<T | null | undefined> =>
    (value) =>
      value === null || value === undefined ? fragment("NULL") : inner(value),
} as const;

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TYPE_NAME = /^[A-Za-z][A-Za-z0-9_]*(\([A-Za-z0-9_, ()]*\))?$/;

function typeName(name: string): string {
  if (!TYPE_NAME.test(name)) throw new SqlEncodingError(`invalid type name: ${name}`);
  return name;
}

/** A table, column or database name; refused unless it is a plain identifier. */
export function ident(name: string): SqlFragment {
  if (!IDENT.test(name)) throw new SqlEncodingError(`invalid identifier: ${JSON.stringify(name)}`);
  return fragment(`\`${name}\``);
}

/** Trusted SQL text written in the code (never user input): keywords, sort orders. */
export function raw(text: string): SqlFragment {
  return fragment(text);
}

/** Joins fragments with a separator (e.g. `, ` for IN lists, ` AND ` for conditions). */
export function join(parts: readonly SqlFragment[], separator: string): SqlFragment {
  return fragment(parts.map((p) => p.text).join(separator));
}

export interface SqlQuery {
  readonly text: string;
}

/** `sql\`SELECT … WHERE id = ${v.string(id)}\``: only encoded fragments may be interpolated. */
export function sql(strings: TemplateStringsArray, ...values: readonly SqlFragment[]): SqlQuery & SqlFragment {
  let text = strings[0] ?? "";
  values.forEach((value, i) => {
    if (!isSqlFragment(value)) {
      throw new SqlEncodingError(`sql: interpolation ${i} is not an encoded value; use v.string(), v.uint64(), ident(), …`);
    }
    text += value.text + (strings[i + 1] ?? "");
  });
  return fragment(text);
}
