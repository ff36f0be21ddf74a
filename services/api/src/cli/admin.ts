import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import pino from "pino";
import { ROLES, UserStore, type Role } from "../auth/users.js";
import { audit } from "../audit.js";
import { ensurePgDatabase, migratePg } from "../db/migrate.js";
import { createPool, pg } from "../db/pool.js";
import { parseEnv } from "../env.js";

const USAGE = `usage: spam-api-admin create-user --username NAME --role reviewer|analyst|admin [--password-stdin]
       spam-api-admin set-password --username NAME [--password-stdin]
The password is read from stdin (first line) or from API_ADMIN_PASSWORD.
DATABASE_URL selects the database (default postgres://spam:spam@127.0.0.1:15432/spam_api).
`;

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0] ?? "";
}

export async function runAdminCli(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { username: { type: "string" }, role: { type: "string" }, "password-stdin": { type: "boolean" }, "display-name": { type: "string" } },
  });
  const command = positionals[0];
  if ((command !== "create-user" && command !== "set-password") || !values.username) {
    process.stdout.write(USAGE);
    return 2;
  }
  const env = parseEnv();
  const password = values["password-stdin"] ? await readStdinLine() : (process.env.API_ADMIN_PASSWORD ?? "");
  if (!password) {
    process.stdout.write("no password: pipe it on stdin with --password-stdin or set API_ADMIN_PASSWORD\n");
    return 2;
  }
  const logger = pino({ level: "warn" });
  await ensurePgDatabase(pg, env.DATABASE_URL);
  const pool = createPool(env.DATABASE_URL, 2);
  try {
    await migratePg(pool, logger);
    const users = new UserStore(pool, 3_600_000);
    if (command === "set-password") {
      await users.setPassword(values.username, password);
      process.stdout.write(`password of ${values.username} changed; their sessions were ended\n`);
      return 0;
    }
    const role = (values.role ?? "admin") as Role;
    if (!ROLES.includes(role)) {
      process.stdout.write(`role must be one of ${ROLES.join(", ")}\n`);
      return 2;
    }
    const user = await users.createUser({ username: values.username, role, password, ...(values["display-name"] ? { displayName: values["display-name"] } : {}) });
    await audit(pool, { id: null, username: "cli" }, "create_user", user.username, "", { role });
    process.stdout.write(`created ${user.role} ${user.username} (id ${user.id})\n`);
    return 0;
  } catch (e) {
    process.stdout.write(`failed: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  } finally {
    await pool.end();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  runAdminCli(process.argv.slice(2)).then((code) => process.exit(code));
}
