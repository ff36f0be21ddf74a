import { randomBytes, scrypt, scryptSync, timingSafeEqual } from "node:crypto";

/**
 * SMPP account passwords at rest: salted scrypt, never the plain text.
 * Stored form: `scrypt$<log2 N>$<r>$<p>$<salt base64url>$<key base64url>`, so the
 * cost can rise later without breaking hashes already in accounts files.
 */
export interface PasswordHash {
  readonly logN: number;
  readonly r: number;
  readonly p: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

/** N = 2^15, r = 8 (32 MiB, tens of ms): a leaked accounts file does not give up 8-character passwords cheaply. */
export const DEFAULT_SCRYPT = { logN: 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;
const PREFIX = "scrypt$";
/** Bounds on what a stored hash may ask for: a hostile accounts file must not make a bind cost seconds or gigabytes. */
const MAX_LOG_N = 20;
const MAX_R = 16;
const MAX_P = 4;

const maxmem = (logN: number, r: number, p: number) => 256 * r * (2 ** logN + p) + (1 << 20);

export function hashPassword(password: string, cost: { logN: number; r: number; p: number } = DEFAULT_SCRYPT): string {
  const salt = randomBytes(16);
  const key = scryptSync(password.normalize("NFC"), salt, KEY_LENGTH, { N: 2 ** cost.logN, r: cost.r, p: cost.p, maxmem: maxmem(cost.logN, cost.r, cost.p) });
  return `${PREFIX}${cost.logN}$${cost.r}$${cost.p}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

export function isPasswordHash(value: string): boolean {
  return value.startsWith(PREFIX);
}

/** Parses a stored hash; throws a message that never contains the value. */
export function parsePasswordHash(value: string): PasswordHash {
  const parts = value.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") throw new Error("not a scrypt$logN$r$p$salt$key hash");
  const [logN, r, p] = parts.slice(1, 4).map((x) => (/^\d{1,2}$/.test(x!) ? Number(x) : NaN)) as [number, number, number];
  if (!(logN >= 10 && logN <= MAX_LOG_N && r >= 1 && r <= MAX_R && p >= 1 && p <= MAX_P)) {
    throw new Error(`scrypt cost out of range (log2 N 10–${MAX_LOG_N}, r 1–${MAX_R}, p 1–${MAX_P})`);
  }
  const salt = Buffer.from(parts[4]!, "base64url");
  const key = Buffer.from(parts[5]!, "base64url");
  if (salt.length < 8 || key.length !== KEY_LENGTH) throw new Error("salt or key of the wrong length");
  return { logN, r, p, salt, key };
}

/** Constant-time check (timingSafeEqual over equal-length derived keys); runs on the libuv pool, not the event loop. */
export function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  return new Promise((resolve) => {
    scrypt(
      password.normalize("NFC"),
      stored.salt,
      stored.key.length,
      { N: 2 ** stored.logN, r: stored.r, p: stored.p, maxmem: maxmem(stored.logN, stored.r, stored.p) },
      (err, derived) => resolve(!err && derived.length === stored.key.length && timingSafeEqual(derived, stored.key)),
    );
  });
}
