/**
 * Sigma `|re` values (PCRE-like, unanchored search) parsed ONCE into a small AST that both emitters
 * (lucene.ts for the query DSL, nfa.ts for Painless and the JS VM) translate. Flags are resolved here:
 * `i` closes every character set under case folding (charset.ts), `s` decides what `.` is, `m` decides
 * what `^`/`$` are. Groups are only structure (no captures). Anything whose meaning we cannot give
 * identically in every emitter is rejected with `{ unsupported: "regex: <what> at offset N" }`.
 *
 * Semantics chosen (documented differences from JavaScript RegExp, the test oracle):
 * - characters are Unicode code points (as Lucene sees them), not UTF-16 units: `.` matches one emoji;
 * - `.` without `s` matches anything but `\n` (PCRE); JS also excludes `\r`, U+2028, U+2029;
 * - `^`/`$` with `m` are line anchors around `\n` only (PCRE); JS also uses `\r`, U+2028, U+2029;
 * - `$` without `m` is end of input only (JS); PCRE also allows it before a final `\n`;
 * - `\s` is JavaScript's set (ASCII whitespace plus Unicode spaces, U+FEFF); `\d`, `\w` are ASCII.
 */
import { RuleUnsupported } from "../errors.ts";
import type { RegexValue } from "../types.ts";
import {
  ALL,
  DIGIT,
  NOT_NEWLINE,
  SPACE,
  WORD,
  type CharSet,
  caseClose,
  complement,
  normalize,
  single,
} from "./charset.ts";

export type AssertKind = "bos" | "eos" | "bol" | "eol" | "wordb" | "nwordb";

export type ReNode =
  /** One code point from the set (literals, classes, `.`, `\d`...). An empty set matches nothing. */
  | { t: "set"; set: CharSet }
  /** Concatenation; an empty list matches the empty string. */
  | { t: "seq"; items: ReNode[] }
  | { t: "alt"; alts: ReNode[] }
  /** `max` -1 = unbounded. */
  | { t: "rep"; node: ReNode; min: number; max: number }
  | { t: "assert"; kind: AssertKind };

export interface ParsedRegex {
  ast: ReNode;
  /** Effective flags after leading inline flags such as `(?i)`. */
  flags: { i: boolean; m: boolean; s: boolean };
}

export type Unsupported = { unsupported: string };

/** Largest `{n,m}` bound accepted (PCRE's own limit is 65535). */
export const MAX_REPEAT = 10000;

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
}

export function parseRegex(rx: RegexValue): ParsedRegex | Unsupported {
  try {
    return new Parser(rx.pattern, { ...rx.flags }).parse();
  } catch (e) {
    if (e instanceof RuleUnsupported) return { unsupported: e.message };
    throw e;
  }
}

export function isUnsupported(x: unknown): x is Unsupported {
  return typeof x === "object" && x !== null && "unsupported" in x;
}

const HEX = /^[0-9a-fA-F]$/;

class Parser {
  private pos = 0;
  constructor(
    private readonly src: string,
    private readonly flags: Flags,
  ) {}

  private fail(what: string, at = this.pos): never {
    throw new RuleUnsupported(`regex: ${what} at offset ${at}`);
  }
  private peek(k = 0): string | undefined {
    return this.src[this.pos + k];
  }
  private eat(s: string): boolean {
    if (this.src.startsWith(s, this.pos)) {
      this.pos += s.length;
      return true;
    }
    return false;
  }
  /** Next code point (surrogate pairs combined). */
  private nextCp(): number {
    const cp = this.src.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }

  parse(): ParsedRegex {
    // Leading inline flags: (?i), (?s), (?im), (?-i)... apply to the whole pattern.
    for (;;) {
      const m = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?\)/.exec(this.src.slice(this.pos));
      if (!m) break;
      this.applyFlags(m[1]!, m[2] ?? "", this.flags, this.pos);
      this.pos += m[0].length;
    }
    const ast = this.alternation(this.flags);
    if (this.pos < this.src.length) this.fail("unbalanced ')'");
    return { ast, flags: { ...this.flags } };
  }

  private applyFlags(on: string, off: string, f: Flags, at: number): void {
    for (const [chars, value] of [
      [on, true],
      [off, false],
    ] as const) {
      for (const c of chars) {
        if (c === "i" || c === "m" || c === "s") f[c] = value;
        else this.fail(`inline flag '${c}'`, at);
      }
    }
  }

  private alternation(f: Flags): ReNode {
    const alts = [this.sequence(f)];
    while (this.eat("|")) alts.push(this.sequence(f));
    return alts.length === 1 ? alts[0]! : { t: "alt", alts };
  }

  private sequence(f: Flags): ReNode {
    const items: ReNode[] = [];
    while (this.pos < this.src.length && this.peek() !== "|" && this.peek() !== ")") {
      const start = this.pos;
      const atom = this.atom(f);
      const q = this.quantifier();
      if (q) {
        if (atom.t === "assert") this.fail("quantifier on an anchor", start);
        items.push({ t: "rep", node: atom, min: q.min, max: q.max });
      } else items.push(atom);
    }
    return items.length === 1 ? items[0]! : { t: "seq", items };
  }

  private quantifier(): { min: number; max: number } | undefined {
    let q: { min: number; max: number } | undefined;
    const c = this.peek();
    if (c === "*") q = { min: 0, max: -1 };
    else if (c === "+") q = { min: 1, max: -1 };
    else if (c === "?") q = { min: 0, max: 1 };
    else if (c === "{") {
      const m = /^\{(\d*)(?:(,)(\d*))?\}/.exec(this.src.slice(this.pos));
      if (!m || (m[1] === "" && m[3] === undefined)) return undefined; // a literal '{' (PCRE and JS agree)
      if (m[1] === "") this.fail("quantifier '{,n}' (engine-dependent meaning)");
      const min = Number(m[1]);
      const max = m[2] ? (m[3] === "" ? -1 : Number(m[3])) : min;
      if (min > MAX_REPEAT || max > MAX_REPEAT) this.fail(`repetition count over ${MAX_REPEAT}`);
      if (max !== -1 && max < min) this.fail("quantifier {n,m} with m < n");
      this.pos += m[0].length - 1;
      q = { min, max };
    }
    if (!q) return undefined;
    this.pos++;
    if (this.eat("?")) {
      // lazy: same match/no-match as greedy
    } else if (this.peek() === "+") this.fail("possessive quantifier");
    const n = this.peek();
    if (n === "*" || n === "+" || n === "?" || (n === "{" && /^\{\d+(,\d*)?\}/.test(this.src.slice(this.pos))))
      this.fail("quantifier after a quantifier", this.pos);
    return q;
  }

  private lit(cp: number, f: Flags): ReNode {
    return { t: "set", set: f.i ? caseClose(single(cp)) : single(cp) };
  }
  private cls(set: CharSet, f: Flags): ReNode {
    return { t: "set", set: f.i ? caseClose(set) : set };
  }

  private atom(f: Flags): ReNode {
    const at = this.pos;
    const c = this.peek()!;
    switch (c) {
      case "(":
        return this.group(f);
      case "[":
        return this.charClass(f);
      case ".":
        this.pos++;
        return { t: "set", set: f.s ? ALL : NOT_NEWLINE };
      case "^":
        this.pos++;
        return { t: "assert", kind: f.m ? "bol" : "bos" };
      case "$":
        this.pos++;
        return { t: "assert", kind: f.m ? "eol" : "eos" };
      case "*":
      case "+":
      case "?":
        this.fail("nothing to repeat");
      case "{":
        if (/^\{\d+(,\d*)?\}/.test(this.src.slice(this.pos))) this.fail("nothing to repeat");
        this.pos++;
        return this.lit(0x7b, f);
      case "\\": {
        this.pos++;
        if (this.pos >= this.src.length) this.fail("trailing backslash", at);
        const e = this.peek()!;
        if (e === "b" || e === "B") {
          this.pos++;
          return { t: "assert", kind: e === "b" ? "wordb" : "nwordb" };
        }
        if (e === "A") {
          this.pos++;
          return { t: "assert", kind: "bos" };
        }
        if (e === "z") {
          this.pos++;
          return { t: "assert", kind: "eos" };
        }
        return this.cls(this.escape(false, at), f);
      }
      default: {
        const cp = this.nextCp();
        return this.lit(cp, f);
      }
    }
  }

  private group(outer: Flags): ReNode {
    const at = this.pos;
    this.pos++; // (
    let f = outer;
    if (this.eat("?")) {
      const rest = this.src.slice(this.pos);
      let m: RegExpExecArray | null;
      if (this.eat(":")) {
        // non-capturing
      } else if ((m = /^P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest))) {
        this.pos += m[0].length; // named group: a plain group
      } else if (rest.startsWith("=") || rest.startsWith("!")) this.fail("lookahead", at);
      else if (rest.startsWith("<=") || rest.startsWith("<!")) this.fail("lookbehind", at);
      else if (rest.startsWith(">")) this.fail("atomic group", at);
      else if (rest.startsWith("P=") || rest.startsWith("P>") || rest.startsWith("&")) this.fail("backreference", at);
      else if (rest.startsWith("#")) this.fail("comment group", at);
      else if ((m = /^([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest))) {
        if (m[3] === ")") this.fail("inline flags not at the start of the pattern", at);
        f = { ...outer };
        this.applyFlags(m[1]!, m[2] ?? "", f, at);
        this.pos += m[0].length; // scoped flags (?i:...)
      } else this.fail("group construct '(?" + rest.slice(0, 1) + "'", at);
    }
    const inner = this.alternation(f);
    if (!this.eat(")")) this.fail("missing ')'", at);
    return inner;
  }

  /**
   * One escape after `\` (already consumed), as a set. `inClass`: `\b` is backspace there.
   * Letters with different meanings in PCRE and JavaScript are refused.
   */
  private escape(inClass: boolean, at: number): CharSet {
    const e = this.peek()!;
    const simple: Record<string, number> = { t: 9, n: 10, r: 13, f: 12 };
    if (e in simple) {
      this.pos++;
      return single(simple[e]!);
    }
    switch (e) {
      case "d":
      case "D":
      case "w":
      case "W":
      case "s":
      case "S": {
        this.pos++;
        const base = e.toLowerCase() === "d" ? DIGIT : e.toLowerCase() === "w" ? WORD : SPACE;
        return e === e.toUpperCase() ? complement(base) : base;
      }
      case "x": {
        this.pos++;
        const m = /^\{([0-9a-fA-F]{1,6})\}/.exec(this.src.slice(this.pos));
        if (m) {
          this.pos += m[0].length;
          return this.cpSet(parseInt(m[1]!, 16), at);
        }
        const h = this.src.slice(this.pos, this.pos + 2);
        if (h.length === 2 && HEX.test(h[0]!) && HEX.test(h[1]!)) {
          this.pos += 2;
          return single(parseInt(h, 16));
        }
        this.fail("malformed \\x escape", at);
      }
      case "u": {
        this.pos++;
        const h = this.src.slice(this.pos, this.pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail("malformed \\u escape", at);
        this.pos += 4;
        let cp = parseInt(h, 16);
        if (cp >= 0xd800 && cp <= 0xdbff) {
          const m = /^\\u([dD][c-fC-F][0-9a-fA-F]{2})/.exec(this.src.slice(this.pos));
          if (!m) this.fail("lone surrogate escape", at);
          this.pos += 6;
          cp = 0x10000 + ((cp - 0xd800) << 10) + (parseInt(m[1]!, 16) - 0xdc00);
        }
        return this.cpSet(cp, at);
      }
      case "c": {
        const l = this.peek(1);
        if (!l || !/[A-Za-z]/.test(l)) this.fail("malformed \\c escape", at);
        this.pos += 2;
        return single(l.charCodeAt(0) % 32);
      }
      case "0":
        if (/[0-9]/.test(this.peek(1) ?? "")) this.fail("octal escape", at);
        this.pos++;
        return single(0);
      case "b":
        if (inClass) {
          this.pos++;
          return single(8);
        }
    }
    if (/[1-9]/.test(e)) this.fail("backreference", at);
    if (e === "k" || e === "g") this.fail("backreference", at);
    if (e === "p" || e === "P" || e === "X") this.fail("unicode property", at);
    if (e === "Q") this.fail("\\Q...\\E quoting", at);
    if (e === "Z") this.fail("\\Z anchor", at);
    if (/[A-Za-z]/.test(e)) this.fail(`escape '\\${e}'`, at);
    return single(this.nextCp()); // any other escaped character is itself
  }

  private cpSet(cp: number, at: number): CharSet {
    if (cp > 0x10ffff) this.fail("code point out of range", at);
    if (cp >= 0xd800 && cp <= 0xdfff) this.fail("lone surrogate escape", at);
    return single(cp);
  }

  private charClass(f: Flags): ReNode {
    const at = this.pos;
    this.pos++; // [
    const negate = this.eat("^");
    if (this.peek() === "]") this.fail("']' first in a class (PCRE literal, JS empty class)", this.pos);
    const parts: number[] = [];
    for (;;) {
      if (this.pos >= this.src.length) this.fail("missing ']'", at);
      if (this.eat("]")) break;
      if (/^\[:[a-z]+:\]/.test(this.src.slice(this.pos))) this.fail("POSIX class", this.pos);
      const lo = this.classAtom();
      if (this.peek() === "-" && this.peek(1) !== "]" && this.peek(1) !== undefined) {
        const save = this.pos;
        this.pos++;
        const hi = this.classAtom();
        if (lo.single !== undefined && hi.single !== undefined) {
          if (hi.single < lo.single) this.fail("range out of order in class", save);
          parts.push(lo.single, hi.single);
          continue;
        }
        // A class escape next to '-' makes the '-' literal (JS and Perl).
        parts.push(...lo.set, 0x2d, 0x2d, ...hi.set);
        continue;
      }
      parts.push(...lo.set);
    }
    let set = normalize(parts);
    if (f.i) set = caseClose(set);
    if (negate) set = complement(set);
    return { t: "set", set };
  }

  private classAtom(): { set: CharSet; single?: number } {
    const at = this.pos;
    if (this.eat("\\")) {
      if (this.pos >= this.src.length) this.fail("trailing backslash", at);
      const set = this.escape(true, at);
      const isClassEscape = /[dDwWsS]/.test(this.src[at + 1]!);
      return isClassEscape ? { set } : { set, single: set[0] };
    }
    const cp = this.nextCp();
    return { set: single(cp), single: cp };
  }
}

/** Does the tree contain an assertion of one of these kinds? */
export function hasAssert(n: ReNode, kinds?: AssertKind[]): boolean {
  switch (n.t) {
    case "assert":
      return !kinds || kinds.includes(n.kind);
    case "set":
      return false;
    case "seq":
      return n.items.some((x) => hasAssert(x, kinds));
    case "alt":
      return n.alts.some((x) => hasAssert(x, kinds));
    case "rep":
      return hasAssert(n.node, kinds);
  }
}
