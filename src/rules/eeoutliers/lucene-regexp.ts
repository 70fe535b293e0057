/**
 * Lucene regular expressions (the `regexp` query, `/…/` in query strings) into the PCRE-like
 * form the representation holds (`RegexValue`: unanchored search, flags).
 *
 * Lucene's syntax differs from PCRE: the pattern must match the WHOLE value (so we anchor with
 * `^(?:…)$`), `.` matches any character including newlines (flag `s`), `^` and `$` are ordinary
 * characters, `"…"` is a literal string, `\` escapes any character, and with the default flags
 * (`ALL`) `@` is any string, `#` the empty language, `~` complement, `&` intersection and
 * `<n-m>` a numeric interval. `@` translates; `#`, `~`, `&` and `<…>` have no PCRE counterpart
 * the live matcher can run, so they are reported as unsupported. `\d \s \w` (and negations) are
 * classes since Lucene 9 (Elasticsearch 8); Elasticsearch 7 reads them as the letters d, s, w —
 * we follow the newer meaning and warn.
 */
import { RuleUnsupported } from "../../ir/errors.ts";
import type { RegexValue } from "../../ir/types.ts";

export type LuceneRegexResult =
  | { ok: true; regex: RegexValue; warnings: string[] }
  | { ok: false; unsupported: string; invalid?: boolean };

const FLAG_NAMES = ["INTERSECTION", "COMPLEMENT", "EMPTY", "ANYSTRING", "INTERVAL"] as const;
type FlagName = (typeof FLAG_NAMES)[number];

/** Parses the `flags` option of a regexp query (`ALL` by default, `NONE`, `A|B`). */
export function regexpFlags(spec: string | undefined): Set<FlagName> | { error: string } {
  if (spec === undefined || spec === "") return new Set(FLAG_NAMES);
  const out = new Set<FlagName>();
  for (const part of spec.split("|").map((s) => s.trim().toUpperCase())) {
    if (part === "ALL") FLAG_NAMES.forEach((f) => out.add(f));
    else if (part === "NONE") continue;
    else if ((FLAG_NAMES as readonly string[]).includes(part)) out.add(part as FlagName);
    else return { error: `unknown regexp flag '${part}'` };
  }
  return out;
}

const PCRE_META = new Set([..."\\^$.|?*+()[]{}/"]);
function lit(ch: string): string {
  return PCRE_META.has(ch) ? "\\" + ch : ch;
}
function classLit(ch: string): string {
  return "\\^-[]/".includes(ch) ? "\\" + ch : ch;
}
const SHORTHAND: Record<string, string> = { d: "\\d", D: "\\D", s: "\\s", S: "\\S", w: "\\w", W: "\\W" };

export function luceneRegexToIr(
  source: string,
  opts: { caseInsensitive?: boolean; flags?: string } = {},
): LuceneRegexResult {
  const parsedFlags = regexpFlags(opts.flags);
  if ("error" in parsedFlags) return { ok: false, invalid: true, unsupported: parsedFlags.error };
  const flags: Set<FlagName> = parsedFlags;
  const chars = [...source];
  let i = 0;
  const warnings = new Set<string>();
  const peek = () => chars[i];
  const more = () => i < chars.length;

  function union(): string {
    const alts = [inter()];
    while (peek() === "|") {
      i++;
      alts.push(inter());
    }
    return alts.length === 1 ? alts[0]! : alts.join("|");
  }
  function inter(): string {
    const c = concat();
    if (flags.has("INTERSECTION") && peek() === "&")
      throw new RuleUnsupported("regexp intersection '&' has no live equivalent");
    return c;
  }
  function concat(): string {
    let out = "";
    while (more() && peek() !== "|" && peek() !== ")" && !(flags.has("INTERSECTION") && peek() === "&"))
      out += repeat();
    return out;
  }
  function repeat(): string {
    // Every atom from complement() is one PCRE atom; only a quantified one needs a group before
    // the next quantifier (`a**`).
    let atom = complement();
    let quantified = false;
    for (;;) {
      const c = peek();
      let q: string;
      if (c === "?" || c === "*" || c === "+") {
        i++;
        q = c;
      } else if (c === "{") {
        const rest = chars.slice(i).join("");
        const m = /^\{(\d+)(,(\d*))?\}/.exec(rest);
        if (!m) throw new Error(`malformed repetition at ${i}`);
        i += [...m[0]].length;
        q = m[0];
      } else return atom;
      atom = (quantified ? `(?:${atom})` : atom) + q;
      quantified = true;
    }
  }
  function complement(): string {
    if (flags.has("COMPLEMENT") && peek() === "~")
      throw new RuleUnsupported("regexp complement '~' has no live equivalent");
    return charClass();
  }
  function charClass(): string {
    if (peek() !== "[") return simple();
    i++;
    let out = "[";
    if (peek() === "^") {
      out += "^";
      i++;
    }
    let first = true;
    while (more() && (peek() !== "]" || first)) {
      first = false;
      out += classChar();
      if (peek() === "-" && chars[i + 1] !== undefined && chars[i + 1] !== "]") {
        i++;
        out += "-" + classChar();
      }
    }
    if (peek() !== "]") throw new Error("unterminated character class");
    i++;
    return out + "]";
  }
  function classChar(): string {
    const c = chars[i++]!;
    if (c !== "\\") return classLit(c);
    return escaped(classLit);
  }
  /** The character after a backslash: a shorthand class (warned: Elasticsearch 7 reads the letter), else `literal` of it. */
  function escaped(literal: (c: string) => string): string {
    const e = chars[i++];
    if (e === undefined) throw new Error("trailing backslash");
    if (SHORTHAND[e]) {
      warnings.add(
        `\\${e} is a character class on Elasticsearch 8+ but the letter '${e}' on Elasticsearch 7; the class is used`,
      );
      return SHORTHAND[e]!;
    }
    return literal(e);
  }
  function simple(): string {
    const c = chars[i];
    if (c === undefined) throw new Error("unexpected end of pattern");
    if (c === ".") {
      i++;
      return ".";
    }
    if (c === "(") {
      i++;
      const inner = peek() === ")" ? "" : union();
      if (peek() !== ")") throw new Error("missing ')'");
      i++;
      return `(?:${inner})`;
    }
    if (c === '"') {
      i++;
      let s = "";
      while (more() && peek() !== '"') s += lit(chars[i++]!);
      if (peek() !== '"') throw new Error('unterminated "string"');
      i++;
      return `(?:${s})`;
    }
    if (c === "\\") {
      i++;
      return escaped(lit);
    }
    if (flags.has("ANYSTRING") && c === "@") {
      i++;
      return "(?:.*)";
    }
    if (flags.has("EMPTY") && c === "#") throw new RuleUnsupported("regexp empty language '#' has no live equivalent");
    if (flags.has("INTERVAL") && c === "<")
      throw new RuleUnsupported("regexp numeric interval '<n-m>' has no live equivalent");
    if (c === ")" || c === "|") throw new Error(`unexpected '${c}'`);
    i++;
    return lit(c);
  }

  try {
    const body = union();
    if (more()) throw new Error(`unexpected '${peek()}' at ${i}`);
    return {
      ok: true,
      regex: { pattern: `^(?:${body})$`, flags: { i: !!opts.caseInsensitive, m: false, s: true } },
      warnings: [...warnings],
    };
  } catch (e) {
    if (e instanceof RuleUnsupported) return { ok: false, unsupported: e.message };
    return {
      ok: false,
      invalid: true,
      unsupported: `regexp ${JSON.stringify(source)} is not valid: ${(e as Error).message}`,
    };
  }
}
