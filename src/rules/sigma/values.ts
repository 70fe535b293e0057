/**
 * Sigma string values into wildcard patterns, exactly as the Sigma specification defines them
 * (rules specification, "Escaping"; pySigma's SigmaString behaves the same way):
 *
 * - `*` is any run of characters, `?` exactly one character;
 * - `\*`, `\?` are a literal `*` / `?`, and `\\` is one literal backslash;
 * - a backslash before any other character, or at the end of the value, is a literal backslash,
 *   so Windows paths (`C:\Windows\`, `\cmd.exe`) need no escaping;
 * - so `\\*` is a backslash followed by the `*` wildcard, `\\\*` a backslash and a literal `*`,
 *   and three or four backslashes are two literal backslashes.
 *
 * With the `expand` modifier `%name%` is a placeholder and `\%` a literal percent sign.
 */
import type { WildcardPart } from "../../ir/types.ts";

/** A placeholder `%name%` inside a value (only with `expand`). */
export interface PlaceholderPart {
  ph: string;
}

export type ValuePart = WildcardPart | PlaceholderPart;

const BACKSLASH = 92;
const STAR = 42;
const QMARK = 63;
const PERCENT = 37;

/** Parses a Sigma string into wildcard parts; adjacent literals are merged. */
export function parseSigmaString(s: string): WildcardPart[] {
  return parseParts(s, false) as WildcardPart[];
}

/** Like `parseSigmaString`, and also recognises `%name%` placeholders (the `expand` modifier). */
export function parseSigmaStringWithPlaceholders(s: string): ValuePart[] {
  return parseParts(s, true);
}

function parseParts(s: string, placeholders: boolean): ValuePart[] {
  // Fast path: no special characters at all (most values).
  if (s.indexOf("*") < 0 && s.indexOf("?") < 0 && s.indexOf("\\") < 0 && (!placeholders || s.indexOf("%") < 0)) {
    return s === "" ? [] : [{ lit: s }];
  }
  const out: ValuePart[] = [];
  let lit = "";
  let runStart = 0; // start of the plain run not yet copied into `lit`
  const flush = (end: number) => {
    lit += s.slice(runStart, end);
    if (lit !== "") {
      out.push({ lit });
      lit = "";
    }
  };
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === BACKSLASH) {
      const next = i + 1 < n ? s.charCodeAt(i + 1) : -1;
      if (next === STAR || next === QMARK || next === BACKSLASH || (placeholders && next === PERCENT)) {
        // escaped: keep the next character only
        lit += s.slice(runStart, i);
        runStart = i + 1;
        i++;
      }
      // before any other character (or at the end): a plain backslash, stays in the run
    } else if (c === STAR || c === QMARK) {
      flush(i);
      out.push(c === STAR ? { any: true } : { one: true });
      runStart = i + 1;
    } else if (placeholders && c === PERCENT) {
      const end = s.indexOf("%", i + 1);
      if (end > i + 1) {
        flush(i);
        out.push({ ph: s.slice(i + 1, end) });
        i = end;
        runStart = end + 1;
      }
    }
  }
  flush(n);
  return out;
}

export function hasWildcard(parts: readonly ValuePart[]): boolean {
  for (const p of parts) if (!("lit" in p)) return true;
  return false;
}

/** Back to Sigma notation (for messages and reports): the inverse of `parseSigmaString`. */
export function formatSigmaString(parts: readonly ValuePart[]): string {
  let s = "";
  for (const p of parts) {
    if ("lit" in p) s += p.lit.replace(/[\\*?]/g, (m) => "\\" + m);
    else if ("any" in p) s += "*";
    else if ("one" in p) s += "?";
    else s += `%${p.ph}%`;
  }
  return s;
}
