import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "../errors.js";
import type { Role, User, UserStore } from "../auth/users.js";

export const SESSION_COOKIE = "spam_session";

declare module "fastify" {
  interface FastifyRequest {
    user: User | null;
    sessionToken: string | null;
  }
  interface FastifyContextConfig {
    /** Anonymous access (health, readiness, login, console assets). */
    public?: boolean;
    /** Roles allowed; absent means any signed-in user. */
    roles?: readonly Role[];
  }
}

function tokenFrom(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header?.startsWith("Bearer ")) return header.slice(7).trim() || null;
  const cookie = request.cookies[SESSION_COOKIE];
  return cookie ? cookie : null;
}

/** Everything is private unless a route says `config: { public: true }`. */
export function installAuth(app: FastifyInstance, users: UserStore): void {
  app.decorateRequest("user", null);
  app.decorateRequest("sessionToken", null);
  app.addHook("onRequest", async (request: FastifyRequest, _reply: FastifyReply) => {
    const config = request.routeOptions.config;
    const token = tokenFrom(request);
    if (token) {
      request.sessionToken = token;
      request.user = await users.authenticate(token);
    }
    if (config.public || request.is404) return;
    if (!request.user) throw new ApiError("unauthenticated", "sign in first");
    const roles = config.roles;
    if (roles && !roles.includes(request.user.role)) {
      throw new ApiError("forbidden", `this needs one of the roles: ${roles.join(", ")}`);
    }
  });
}

export function requireUser(request: FastifyRequest): User {
  if (!request.user) throw new ApiError("unauthenticated", "sign in first");
  return request.user;
}
