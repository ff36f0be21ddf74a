import type { Logger } from "pino";
import type { UserStore } from "./auth/users.js";

/** Demo accounts for a local `npm start`, only into an empty user table. */
export async function createDemoUsers(users: UserStore, password: string, logger: Logger): Promise<boolean> {
  if ((await users.count()) > 0) return false;
  for (const [username, displayName, role] of [
    ["reviewer", "审核员", "reviewer"],
    ["analyst", "分析师", "analyst"],
    ["admin", "管理员", "admin"],
  ] as const) {
    await users.createUser({ username, displayName, role, password });
  }
  logger.info({ users: ["reviewer", "analyst", "admin"] }, "created demo users (API_DEMO_PASSWORD)");
  return true;
}
