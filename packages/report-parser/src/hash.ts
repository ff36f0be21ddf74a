import { createHmac } from "node:crypto";
import { normaliseNumber } from "./number.js";

/**
 * Keyed hash of a reporter's number: the only form analytics and logs hold.
 * The number is normalised first so +86 / 0086 / bare forms hash alike.
 * 32 hex characters (128 bits) of HMAC-SHA256.
 */
export function hashReporter(msisdn: string, key: string | Buffer): string {
  if ((typeof key === "string" ? Buffer.byteLength(key) : key.length) < 16) {
    throw new RangeError("hashReporter key must be at least 16 bytes");
  }
  const n = normaliseNumber(msisdn);
  const canonical = n ? n.digits : msisdn.replace(/\s+/g, "");
  return createHmac("sha256", key).update(canonical, "utf8").digest("hex").slice(0, 32);
}
