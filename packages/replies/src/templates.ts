import { readFileSync } from "node:fs";
import { REPLY_KINDS, type ReplyKind } from "@spam/contracts";
import { z } from "zod";
import { repoPath } from "@spam/repo-paths";

/** Variables a reply template may use. A typo in a file fails at load, not when a subscriber is waiting. */
const REPLY_VARIABLES = ["reportId", "reportedNumber", "shortCode", "windowMinutes"] as const;
type ReplyVariable = (typeof REPLY_VARIABLES)[number];
export type ReplyVars = Partial<Record<ReplyVariable, string | number>>;

export type ReplyTemplateErrorCode = "invalid_file" | "unknown_variable" | "missing_variable" | "too_long";

export class ReplyTemplateError extends Error {
  override readonly name = "ReplyTemplateError";
  constructor(
    readonly code: ReplyTemplateErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
/** OutboundReplyV1.text limit. */
const MAX_TEXT = 2_000;

const TemplateText = z.string().min(1).max(MAX_TEXT);
const ReplyTemplatesFile = z.object({
  locale: z.string().min(2).max(16),
  templates: z.object(
    Object.fromEntries(REPLY_KINDS.map((k) => [k, TemplateText])) as Record<ReplyKind, typeof TemplateText>,
  ).strict(),
}).strict();
type ReplyTemplatesFile = z.infer<typeof ReplyTemplatesFile>;

export interface ReplyTemplates {
  readonly locale: string;
  /** Renders a reply; throws ReplyTemplateError("missing_variable") when a placeholder has no value. */
  render(kind: ReplyKind, vars: ReplyVars): string;
  /** Variables each template uses. */
  readonly variables: Readonly<Record<ReplyKind, readonly ReplyVariable[]>>;
}

function placeholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Validates templates (zod + known placeholders) and returns a renderer. */
export function createReplyTemplates(input: unknown, origin = "reply templates"): ReplyTemplates {
  const parsed = ReplyTemplatesFile.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new ReplyTemplateError("invalid_file", `${origin}: ${issues}`);
  }
  const { locale, templates } = parsed.data;
  const variables = {} as Record<ReplyKind, ReplyVariable[]>;
  for (const kind of REPLY_KINDS) {
    const names = placeholders(templates[kind]);
    for (const n of names) {
      if (!(REPLY_VARIABLES as readonly string[]).includes(n)) {
        throw new ReplyTemplateError(
          "unknown_variable",
          `${origin}: template "${kind}" uses {${n}}; known variables: ${REPLY_VARIABLES.join(", ")}`,
        );
      }
    }
    variables[kind] = [...new Set(names)] as ReplyVariable[];
  }
  return {
    locale,
    variables,
    render(kind, vars) {
      const text = templates[kind].replace(PLACEHOLDER, (_m, name: string) => {
        const v = vars[name as ReplyVariable];
        if (v === undefined || v === null || String(v).length === 0) {
          throw new ReplyTemplateError("missing_variable", `reply "${kind}" needs {${name}} but it was not given`);
        }
        return String(v);
      });
      if (text.length > MAX_TEXT) throw new ReplyTemplateError("too_long", `reply "${kind}" renders to ${text.length} characters`);
      return text;
    },
  };
}

/** Reads and validates a template file (JSON). */
export function loadReplyTemplates(path: string): ReplyTemplates {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ReplyTemplateError("invalid_file", `${path}: ${(e as Error).message}`);
  }
  return createReplyTemplates(raw, path);
}

/** The repository's rules/replies/<locale>.json (resolved from this package, for services run from the repo). */
export function defaultReplyTemplatesPath(locale = "zh-CN"): string {
  return repoPath("rules", "replies", `${locale}.json`);
}

let defaults: ReplyTemplates | undefined;

/** Renders with the default zh-CN templates from rules/replies (loaded once). */
export function renderReply(kind: ReplyKind, vars: ReplyVars): string {
  defaults ??= loadReplyTemplates(defaultReplyTemplatesPath());
  return defaults.render(kind, vars);
}
