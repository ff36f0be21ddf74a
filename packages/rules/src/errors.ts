export type RuleLoadErrorCode = "read" | "parse" | "schema" | "duplicate_id" | "unsafe_regex" | "empty_keyword" | "empty_dir";

/** A rule file or rule that cannot be loaded; names the file, the rule id and the field path. */
export class RuleLoadError extends Error {
  override readonly name = "RuleLoadError";
  constructor(
    readonly code: RuleLoadErrorCode,
    /** Path relative to the rule directory. */
    readonly file: string,
    readonly ruleId: string | null,
    /** Field path inside the file, e.g. "rules[3].patterns[0]". */
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${file}${ruleId !== null ? ` rule ${ruleId}` : ""}${path !== "" ? ` at ${path}` : ""}: ${reason}`);
  }
}
