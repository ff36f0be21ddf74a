import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { audit, AuditEntry, listAudit } from "../../audit.js";
import { Password, ROLES, SessionInfo, User, Username, type UserStore } from "../../auth/users.js";
import { ApiError } from "../../errors.js";
import { requireUser } from "../auth.js";
import { ROLE_LIMITED, SessionId, WITH_BODY, WITH_INPUT, errorResponses } from "../schemas.js";

// Any name may be asked about (older accounts, typos): 404 when there is no such user.
const UserParam = z.object({ username: z.string().min(1).max(64) });

export const adminRoutes: FastifyPluginAsyncZod<{ users: UserStore }> = async (app, opts) => {
  app.get(
    "/api/admin/audit",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["admin"],
        summary: "Audit log: reveals, decisions, logins, exports (newest first)",
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(100),
          before: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
          action: z.string().max(32).optional(),
          username: z.string().max(64).optional(),
        }),
        response: { 200: z.object({ items: z.array(AuditEntry) }), ...errorResponses(...ROLE_LIMITED, ...WITH_INPUT) },
      },
    },
    async (request) => ({ items: await listAudit(app.pg, request.query) }),
  );

  app.get(
    "/api/admin/users",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["admin"],
        summary: "Users",
        response: { 200: z.object({ items: z.array(User.extend({ disabled: z.boolean(), createdAt: z.string() })) }), ...errorResponses(...ROLE_LIMITED) },
      },
    },
    async () => ({ items: await opts.users.list() }),
  );

  app.post(
    "/api/admin/users",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["admin"],
        summary: "Create a user",
        body: z.object({ username: Username, displayName: z.string().min(1).max(64).optional(), role: z.enum(ROLES), password: Password }).strict(),
        response: { 200: User, ...errorResponses(...ROLE_LIMITED, ...WITH_BODY, 409) },
      },
    },
    async (request) => {
      const created = await opts.users.createUser(request.body);
      await audit(app.pg, requireUser(request), "create_user", created.username, "", { role: created.role });
      return created;
    },
  );

  app.patch(
    "/api/admin/users/:username",
    {
      config: { roles: ["admin"] },
      schema: {
        tags: ["admin"],
        summary: "Disable or enable a user, or set a new password; either ends all of the user's sessions",
        params: UserParam,
        // At least one of the two: a union, so the document says so too (an empty object matches neither).
        body: z.union([z.object({ disabled: z.boolean(), password: Password.optional() }).strict(), z.object({ password: Password }).strict()]),
        response: { 200: z.object({ ok: z.literal(true) }), ...errorResponses(...ROLE_LIMITED, ...WITH_BODY, 404) },
      },
    },
    async (request) => {
      const admin = requireUser(request);
      const { username } = request.params;
      const { password } = request.body;
      const disabled = "disabled" in request.body ? request.body.disabled : undefined;
      // A well-formed request the server refuses to carry out: 403, not 400.
      if (disabled === true && username === admin.username) throw new ApiError("forbidden", "you cannot disable yourself");
      if (password !== undefined) {
        await opts.users.setPassword(username, password);
        await audit(app.pg, admin, "set_password", username);
      }
      if (disabled !== undefined) {
        await opts.users.setDisabled(username, disabled);
        await audit(app.pg, admin, disabled ? "disable_user" : "enable_user", username);
      }
      return { ok: true as const };
    },
  );

  app.get(
    "/api/admin/users/:username/sessions",
    {
      config: { roles: ["admin"] },
      schema: { tags: ["admin"], summary: "A user's live sessions", params: UserParam, response: { 200: z.object({ items: z.array(SessionInfo) }), ...errorResponses(...ROLE_LIMITED, ...WITH_INPUT, 404) } },
    },
    async (request) => ({ items: await opts.users.sessionsOf(await opts.users.userId(request.params.username), request.sessionToken) }),
  );

  app.delete(
    "/api/admin/users/:username/sessions",
    {
      config: { roles: ["admin"] },
      schema: { tags: ["admin"], summary: "End all of a user's sessions", params: UserParam, response: { 200: z.object({ ended: z.number().int() }), ...errorResponses(...ROLE_LIMITED, ...WITH_BODY, 404) } },
    },
    async (request) => {
      await opts.users.userId(request.params.username);
      const ended = await opts.users.revokeAllOf(request.params.username);
      await audit(app.pg, requireUser(request), "revoke_sessions", request.params.username, "", { ended });
      return { ended };
    },
  );

  app.delete(
    "/api/admin/users/:username/sessions/:id",
    {
      config: { roles: ["admin"] },
      schema: { tags: ["admin"], summary: "End one session of a user", params: UserParam.extend({ id: SessionId }), response: { 200: z.object({ ok: z.literal(true) }), ...errorResponses(...ROLE_LIMITED, ...WITH_BODY, 404) } },
    },
    async (request) => {
      const { username, id } = request.params;
      if (!(await opts.users.revoke(await opts.users.userId(username), id))) throw new ApiError("not_found", "no such session");
      await audit(app.pg, requireUser(request), "revoke_session", username, "", { session: id });
      return { ok: true as const };
    },
  );
};
