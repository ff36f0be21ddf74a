import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ApiError } from "../errors.js";
import type { Role, User, UserStore } from "../auth/users.js";

const SESSION_COOKIE = "spam_session";
/**
 * Over HTTPS the cookie carries the `__Host-` prefix: the browser then only accepts it Secure, for
 * path /, from this exact host (no Domain attribute), so a sibling subdomain cannot plant or shadow it.
 */
export function sessionCookieName(secure: boolean): string {
  return secure ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE;
}

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

function tokenFrom(request: FastifyRequest, cookieName: string): string | null {
  const header = request.headers.authorization;
  if (header?.startsWith("Bearer ")) return header.slice(7).trim() || null;
  const cookie = request.cookies[cookieName];
  return cookie ? cookie : null;
}

/** Everything is private unless a route says `config: { public: true }`. */
export function installAuth(app: FastifyInstance, users: UserStore, cookieName: string = SESSION_COOKIE): void {
  app.decorateRequest("user", null);
  app.decorateRequest("sessionToken", null);
  app.addHook("onRequest", async (request: FastifyRequest, _reply: FastifyReply) => {
    const config = request.routeOptions.config;
    const token = tokenFrom(request, cookieName);
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
