import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { audit } from "../../audit.js";
import { User, type UserStore } from "../../auth/users.js";
import { ApiError } from "../../errors.js";
import { requireUser, SESSION_COOKIE } from "../auth.js";
import { ErrorResponse } from "../schemas.js";

export interface AuthRoutesOptions {
  readonly users: UserStore;
  readonly cookieSecure: boolean;
  readonly loginPerMinute: number;
}

export const authRoutes: FastifyPluginAsyncZod<AuthRoutesOptions> = async (app, opts) => {
  app.post(
    "/api/auth/login",
    {
      config: { public: true, rateLimit: { max: opts.loginPerMinute, timeWindow: "1 minute" } },
      schema: {
        tags: ["auth"],
        summary: "Sign in; sets the session cookie and returns a bearer token",
        body: z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(200) }),
        response: {
          200: z.object({ user: User, token: z.string(), expiresAt: z.string() }),
          401: ErrorResponse,
          429: ErrorResponse,
        },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const session = await opts.users.login(username, password);
      if (!session) {
        await audit(app.pg, { id: null, username }, "login_failed", username, "", { ip: request.ip });
        throw new ApiError("unauthenticated", "wrong username or password");
      }
      await audit(app.pg, session.user, "login", session.user.username, "", { ip: request.ip });
      void reply.setCookie(SESSION_COOKIE, session.token, {
        path: "/",
        httpOnly: true,
        sameSite: "strict",
        secure: opts.cookieSecure,
        expires: session.expiresAt,
      });
      return { user: session.user, token: session.token, expiresAt: session.expiresAt.toISOString() };
    },
  );

  app.post(
    "/api/auth/logout",
    { schema: { tags: ["auth"], summary: "End the session", response: { 200: z.object({ ok: z.literal(true) }) } } },
    async (request, reply) => {
      if (request.sessionToken) await opts.users.logout(request.sessionToken);
      await audit(app.pg, requireUser(request), "logout", requireUser(request).username);
      void reply.clearCookie(SESSION_COOKIE, { path: "/" });
      return { ok: true as const };
    },
  );

  app.get(
    "/api/auth/me",
    { schema: { tags: ["auth"], summary: "The signed-in user", response: { 200: User, 401: ErrorResponse } } },
    async (request) => requireUser(request),
  );
};
