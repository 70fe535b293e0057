/**
 * Shared by the regex tests (unit and integration): the Sigma corpus's `|re` values, a seeded
 * generator of matching / near-matching / random inputs, the JavaScript RegExp oracle, and a local
 * stand-in for Lucene (our emitted Lucene regexp re-read as a whole-value JS `u` RegExp) so the
 * Lucene emitter can be tested on thousands of strings without the engine.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import type { RegexValue } from "../../src/ir/types.ts";
import { type ReNode, parseRegex, isUnsupported } from "../../src/ir/regex/parse.ts";
import { intersect, union, type CharSet } from "../../src/ir/regex/charset.ts";
import { rng } from "./gen-events.ts";

export const SHARED = path.resolve(import.meta.dir, "../../../shared");
export const SIGMA = path.join(SHARED, "sigma");
export const HAVE_CORPUS = existsSync(SIGMA);

export interface CorpusRegex {
  regex: RegexValue;
  /** Files (relative to sigma/) that use it. */
  files: string[];
}

/** Every distinct `|re` value under sigma/rules* (or the given top-level folders). */
export function corpusRegexes(dirs?: string[]): { values: number; distinct: CorpusRegex[] } {
  const byKey = new Map<string, CorpusRegex>();
  let values = 0;
  const top = dirs ?? readdirSync(SIGMA).filter((d) => d.startsWith("rules"));
  const visit = (o: unknown, file: string): void => {
    if (Array.isArray(o)) return o.forEach((x) => visit(x, file));
    if (!o || typeof o !== "object") return;
    for (const [k, v] of Object.entries(o)) {
      const mods = k.split("|").slice(1);
      if (!mods.includes("re")) {
        visit(v, file);
        continue;
      }
      for (const x of Array.isArray(v) ? v : [v]) {
        values++;
        const regex: RegexValue = {
          pattern: String(x),
          flags: { i: mods.includes("i"), m: mods.includes("m"), s: mods.includes("s") },
        };
        const key = JSON.stringify(regex);
        const e = byKey.get(key) ?? { regex, files: [] };
        e.files.push(file);
        byKey.set(key, e);
      }
    }
  };
  const walk = (d: string): void => {
    for (const e of readdirSync(d)) {
      const p = path.join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(e)) {
        for (const doc of parseAllDocuments(readFileSync(p, "utf8"))) {
          const j = doc.toJS() as { detection?: unknown } | null;
          if (j?.detection) visit(j.detection, path.relative(SIGMA, p));
        }
      }
    }
  };
  for (const d of top) walk(path.join(SIGMA, d));
  return { values, distinct: [...byKey.values()] };
}

/** The same regex for JavaScript: leading inline flags moved to the flags string. */
export function jsOracle(rx: RegexValue): RegExp {
  let src = rx.pattern;
  const f = { ...rx.flags };
  for (let m; (m = /^\(\?([ims]*)\)/.exec(src)); src = src.slice(m[0].length))
    for (const c of m[1]!) f[c as "i"] = true;
  return new RegExp(src, (f.i ? "i" : "") + (f.m ? "m" : "") + (f.s ? "s" : ""));
}

/** Our Lucene regexp as a whole-value JavaScript RegExp (code points, `.` = any character). */
export function luceneAsJs(value: string): RegExp {
  let out = "";
  const cps = [...value];
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]!;
    if (c === "\\") {
      out += `\\u{${cps[++i]!.codePointAt(0)!.toString(16)}}`;
    } else if (c === ".") out += "[^]";
    else if (c.codePointAt(0)! < 0x20 || c.codePointAt(0)! > 0x7e) out += `\\u{${c.codePointAt(0)!.toString(16)}}`;
    else out += c;
  }
  return new RegExp(`^(?:${out})$`, "u");
}

/** Deterministic PRNG (mulberry32), shared with the event generator. */
export { rng };

/**
 * Characters where JavaScript RegExp is a faithful oracle for our semantics: no `\r`, U+2028,
 * U+2029 (JS line terminators, ours is `\n` only) and no astral characters (JS without `u` counts
 * UTF-16 units). Those differences have their own explicit tests.
 */
export const ORACLE_SAFE: CharSet = union([0x09, 0x0c], [0x20, 0x2027], [0x202a, 0xd7ff], [0xe000, 0xfffd]);

const EXTRA = [
  "a",
  "Z",
  "0",
  "9",
  " ",
  "_",
  "-",
  "\\",
  "/",
  ".",
  ":",
  "\n",
  "\t",
  "é",
  "É",
  "ß",
  "ſ",
  "K",
  "k",
  "s",
  "S",
  "\u00a0",
  "\u3000",
  "σ",
  "Σ",
  "ς",
  '"',
  "'",
  "{",
  "}",
  "$",
  "^",
  "[",
  "]",
  "`",
];

function pick<T>(r: () => number, xs: T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function cpFrom(r: () => number, set: CharSet): number | undefined {
  const s = intersect(set, ORACLE_SAFE);
  if (s.length === 0) return undefined;
  // prefer ASCII members when there are some
  const ascii = intersect(s, [0x20, 0x7e]);
  const use = ascii.length && r() < 0.85 ? ascii : s;
  const k = Math.floor(r() * (use.length / 2));
  const lo = use[2 * k]!;
  const hi = use[2 * k + 1]!;
  return lo + Math.floor(r() * (hi - lo + 1));
}

function gen(r: () => number, n: ReNode, budget: { left: number }): string {
  if (budget.left-- <= 0) return "";
  switch (n.t) {
    case "set": {
      const cp = cpFrom(r, n.set);
      return cp === undefined ? "" : String.fromCodePoint(cp);
    }
    case "assert":
      return n.kind === "bol" || n.kind === "eol"
        ? r() < 0.5
          ? "\n"
          : ""
        : n.kind === "wordb" || n.kind === "nwordb"
          ? r() < 0.3
            ? " "
            : ""
          : "";
    case "seq":
      return n.items.map((x) => gen(r, x, budget)).join("");
    case "alt":
      return gen(r, pick(r, n.alts), budget);
    case "rep": {
      const hi = n.max === -1 ? n.min + 3 : n.max;
      let count = n.min + Math.floor(r() * (Math.min(hi, n.min + 4) - n.min + 1));
      if (r() < 0.2) count = hi; // the upper boundary
      let out = "";
      for (let i = 0; i < count; i++) out += gen(r, n.node, budget);
      return out;
    }
  }
}

function literalChars(pattern: string): string[] {
  return [...new Set([...pattern].filter((c) => c.codePointAt(0)! <= 0xffff && c !== "\r"))];
}

function mutate(r: () => number, s: string, alphabet: string[]): string {
  const a = [...s];
  if (a.length === 0) return pick(r, alphabet);
  const i = Math.floor(r() * a.length);
  switch (Math.floor(r() * 5)) {
    case 0:
      a.splice(i, 1);
      break;
    case 1:
      a.splice(i, 0, pick(r, alphabet));
      break;
    case 2:
      a[i] = pick(r, alphabet);
      break;
    case 3:
      a[i] = a[i] === a[i]!.toUpperCase() ? a[i]!.toLowerCase() : a[i]!.toUpperCase();
      break;
    default:
      return s.toUpperCase() === s ? s.toLowerCase() : s.toUpperCase();
  }
  return a.join("").replace(/[\r\u2028\u2029]/g, "");
}

/** Inputs for one regex: generated matches in context, their mutations, random strings. */
export function inputsFor(rx: RegexValue, count: number, seed: number): string[] {
  const r = rng(seed);
  const parsed = parseRegex(rx);
  const alphabet = [...literalChars(rx.pattern), ...EXTRA];
  const rand = (len: number) => Array.from({ length: len }, () => pick(r, alphabet)).join("");
  const out = new Set<string>(["", "a", "\n"]);
  for (let tries = 0; out.size < count && tries < count * 4; tries++) {
    const kind = r();
    if (!isUnsupported(parsed) && kind < 0.7) {
      const core = gen(r, parsed.ast, { left: 3000 });
      const pre = r() < 0.5 ? "" : rand(Math.floor(r() * 6));
      const post = r() < 0.5 ? "" : rand(Math.floor(r() * 6));
      const s = pre + core + post;
      out.add(kind < 0.45 ? s : mutate(r, s, alphabet));
    } else out.add(rand(Math.floor(r() * 20)));
  }
  return [...out].filter((s) => !/[\r\u2028\u2029]/.test(s) && ![...s].some((c) => c.codePointAt(0)! > 0xffff));
}

/** Hand-written patterns (JS-compatible syntax) covering every construct the parser accepts. */
const F = (i = false, m = false, s = false) => ({ i, m, s });

export const HAND: RegexValue[] = [
  ["abc"],
  ["a.c"],
  ["a.c", "s"],
  ["^abc"],
  ["abc$"],
  ["^abc$"],
  ["^$"],
  ["^"],
  ["$"],
  ["x*"],
  ["(a|b)*c"],
  ["a(b|)c"],
  ["(^|/)\\.[^./]"],
  ["(a$|b)c?"],
  ["(^a|b$)"],
  ["^(?:a|b)+$"],
  ["(?:^a)*b"],
  ["(?:a$|b)*"],
  ["(?:a|^b){2}c"],
  ["(x$)?y"],
  ["[a-f0-9]{4,8}\\.x"],
  ["[^a-z]+"],
  ["[^\\s\\d]{2}"],
  ["\\w+\\W\\w"],
  ["\\S+?:"],
  ["\\d{2,3}?x"],
  ["colou?r", "i"],
  ["[a-z]+", "i"],
  ["[^a-z]", "i"],
  ["straße", "i"],
  ["σ", "i"],
  ["k", "i"],
  ["[é-ë]", "i"],
  ["[\\s]", "i"],
  ["^b", "m"],
  ["a$", "m"],
  ["^a$", "m"],
  ["(^|x)y$", "m"],
  [".+", "m"],
  ["a.b", "ms"],
  ["\\bfoo\\b"],
  ["\\Bo\\B"],
  ["\\b"],
  ["a\\b"],
  ["\\bx", "i"],
  [".{12,}"],
  [".{3,12}x"],
  ["x[0-9]{9}y"],
  ["[ab]{8,9}"],
  ["(?:[ab]{8}){2}"],
  ["[^/]{10,}$"],
  ["^[a-z]{8,10}$"],
  ["(a{8,})*b"],
  ["\\x41\\u00e9\\t\\n"],
  ["\\{\\}\\[\\]\\(\\)\\|\\*\\+\\?\\.\\^\\$\\\\\\/"],
  ["[\\]\\[\\-\\\\]"],
  ["a{"],
  ["a{,"],
  ["a}"],
  ["x{2}{"],
  ['"<>#@&~'],
  ['[#@&~<>"]+'],
  ["a|"],
  ["|"],
  ["(?:)"],
  ["((a)|(b))+?c"],
  ["(?<n>ab)+"],
  ["(?i)ab"],
  ["(?s)a.b"],
  ["(?m)^a"],
  ["(?i:a)b"],
  ["a(?i:b)c"],
  ["[\\w.-]+@[\\w-]+\\.[a-z]{2,4}"],
  ["\\s-[FTd]\\s"],
  ["[-/–][Ee^]{1,2}"],
].map(([p, f = ""]) => ({ pattern: p!, flags: F(f.includes("i"), f.includes("m"), f.includes("s")) }));
