import safeRegex from "safe-regex2";

/**
 * Refuses regexes that can backtrack catastrophically. Conservative by design:
 * a refused pattern can almost always be rewritten with bounded repetition or
 * moved into a keyword list.
 *  - nested unbounded quantifiers, star height > 1 (safe-regex2): (a+)+
 *  - unbounded quantifier on a group containing alternation: (a|aa)+, (a|a)*
 *  - more than one unbounded quantifier (polynomial blow-up): .*a.*b
 *  - back-references (not regular; exponential in general)
 * Measured here: recheck finds the same classes but took 0.6–2.9 s for ordinary
 * CJK patterns with bounded repetition, too slow for a hot reload; re2 needs a
 * native build that is not available from the registry on this machine.
 */
export function regexSafetyProblem(pattern: string): string | null {
  try {
    new RegExp(pattern, "u");
  } catch (err) {
    return `invalid regex: ${(err as Error).message}`;
  }
  if (/\\[1-9]|\\k</.test(pattern)) return "back-references are not allowed";
  if (!safeRegex(pattern)) return "nested unbounded quantifiers (star height > 1)";
  let unbounded = 0;
  // Per open group: did it contain a top-level '|'?
  const groups: boolean[] = [];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    let groupHadAlt = false;
    if (ch === "\\") {
      i++;
    } else if (inClass) {
      if (ch !== "]") continue;
      inClass = false;
    } else if (ch === "[") {
      inClass = true;
      continue;
    } else if (ch === "(") {
      groups.push(false);
      continue;
    } else if (ch === "|") {
      if (groups.length > 0) groups[groups.length - 1] = true;
      continue;
    } else if (ch === ")") {
      groupHadAlt = groups.pop() ?? false;
    } else if (ch === "{") {
      const q = /^\{\d+(?:,\d*)?\}/.exec(pattern.slice(i));
      if (q !== null) {
        i += q[0].length - 1;
        continue;
      }
    } else if (ch === "*" || ch === "+" || ch === "?") {
      continue;
    }
    // `ch` ended an atom: is it followed by an unbounded quantifier?
    const rest = pattern.slice(i + 1, i + 12);
    if (rest.startsWith("*") || rest.startsWith("+") || /^\{\d+,\}/.test(rest)) {
      unbounded++;
      if (groupHadAlt) return "unbounded quantifier on a group with alternation";
    }
  }
  if (unbounded > 1) return "more than one unbounded quantifier; use bounded repetition like .{0,20}";
  return null;
}
