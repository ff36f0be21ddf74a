import { MAX_PASSWORD } from "./accounts.js";
import { hashPassword } from "./passwords.js";

/**
 * Prints the `scrypt$…` hash of an SMPP password for `passwordHash` in an
 * accounts file (or in place of the password in SMPP_ACCOUNTS). The password is
 * read from stdin, never from argv, so it stays out of shell history and `ps`:
 *   printf '%s' 'pw' | pnpm --silent --filter @spam/gateway-service hash-password
 */
async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
  if (password.length < 1 || password.length > MAX_PASSWORD || !/^[\x20-\x7e]+$/.test(password)) {
    process.stderr.write(`hash-password: the password must be 1–${MAX_PASSWORD} printable ASCII characters (SMPP 3.4)\n`);
    process.exit(2);
  }
  process.stdout.write(`${hashPassword(password)}\n`);
}

void main();
