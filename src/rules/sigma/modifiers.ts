/**
 * Sigma value modifiers, each a small named transformation of a value (pySigma's model):
 * `field|mod1|mod2: value` applies mod1 then mod2 to every value of the item.
 *
 * Values flow through the chain as `SigmaValue`s. A modifier may turn one value into several
 * alternatives (`windash`, `base64offset`, `expand`): those become an `expansion`, which is always
 * ORed, even under `|all` (pySigma's SigmaExpansion).
 */
import type { ValuePart } from "./values.ts";
import { hasWildcard, parseSigmaString } from "./values.ts";
import { normalizeCidr } from "../../ir/ip.ts";
import { RuleError, RuleUnsupported } from "../../ir/errors.ts";

export type CompareOp = "gt" | "gte" | "lt" | "lte";

export type SigmaValue =
  /**
   * A string pattern. `raw` is the text as written (for `re`). `cased` is set by `cased` and by
   * base64 encodings (base64 text is case-sensitive). `binary`: literals hold bytes (one char per
   * byte, 0–255), after a UTF-16 encoding.
   */
  | { t: "str"; parts: ValuePart[]; raw: string; cased?: boolean; binary?: boolean }
  /** A YAML number; `src` is its text as written. */
  | { t: "num"; value: number; src: string }
  | { t: "bool"; value: boolean }
  | { t: "null" }
  | { t: "re"; pattern: string; flags: { i: boolean; m: boolean; s: boolean } }
  | { t: "cidr"; cidr: string }
  | { t: "cmp"; op: CompareOp; value: number }
  | { t: "exists"; value: boolean }
  | { t: "fieldref"; field: string }
  /** Alternatives produced from one value; ORed. */
  | { t: "expansion"; values: SigmaValue[] };

/** Item-level state modifiers can set. */
export interface ItemState {
  /** Sigma field name, or undefined for keyword items (`|all:`, lists of values). */
  field: string | undefined;
  /** Values are ANDed instead of ORed (`all`). */
  all: boolean;
  /** Each value's predicate is negated (`neq`). */
  negate: boolean;
  /** Values for `%name%` placeholders (`expand`), from `--placeholders FILE`. */
  placeholders?: Record<string, string[]>;
}

export interface Modifier {
  name: string;
  /** Transforms one value; `applied` are the modifiers before this one in the chain. */
  apply(v: SigmaValue, state: ItemState, applied: readonly string[]): SigmaValue | SigmaValue[];
}

const ANY: ValuePart = { any: true };

function describe(v: SigmaValue): string {
  switch (v.t) {
    case "str":
      return `string '${v.raw}'`;
    case "num":
      return `number ${v.src}`;
    case "bool":
      return `boolean ${v.value}`;
    case "null":
      return "null";
    case "re":
      return "regular expression";
    case "cidr":
      return "cidr network";
    case "cmp":
      return "comparison";
    case "exists":
      return "exists check";
    case "fieldref":
      return "field reference";
    case "expansion":
      return "expansion";
  }
}

function wrongType(mod: string, v: SigmaValue, wants: string): RuleError {
  return new RuleError(`modifier '${mod}' needs ${wants}, not ${describe(v)}`);
}

/** Numbers and booleans as strings, for string modifiers (`EventID|startswith: 46`). */
function asString(v: SigmaValue): SigmaValue {
  if (v.t === "num") return { t: "str", parts: v.src === "" ? [] : [{ lit: v.src }], raw: v.src };
  if (v.t === "bool") return { t: "str", parts: [{ lit: String(v.value) }], raw: String(v.value) };
  return v;
}

function first(parts: ValuePart[]): ValuePart | undefined {
  return parts[0];
}
function last(parts: ValuePart[]): ValuePart | undefined {
  return parts[parts.length - 1];
}
const isAny = (p: ValuePart | undefined) => p !== undefined && "any" in p;

function positional(name: string, atStart: boolean, atEnd: boolean): Modifier {
  return {
    name,
    apply(v0) {
      const v = asString(v0);
      if (v.t === "str") {
        const parts = v.parts.slice();
        if (atStart && !isAny(first(parts))) parts.unshift(ANY);
        if (atEnd && !isAny(last(parts))) parts.push(ANY);
        return { ...v, parts };
      }
      // Regular expressions are unanchored searches already: position modifiers change nothing.
      if (v.t === "re") return v;
      if (v.t === "fieldref") throw new RuleUnsupported(`modifier '${name}' on a field reference is not supported`);
      throw wrongType(name, v, "a string");
    },
  };
}

/** The literal text of a string without wildcards or placeholders, else an error. */
function plainOf(mod: string, v: SigmaValue): string {
  const s = asString(v);
  if (s.t !== "str") throw wrongType(mod, s, "a string");
  if (hasWildcard(s.parts))
    throw new RuleError(`modifier '${mod}' cannot encode a value with wildcards or placeholders ('${s.raw}')`);
  let out = "";
  for (const p of s.parts) if ("lit" in p) out += p.lit;
  return out;
}

/** The bytes of a value: UTF-8, or the bytes a UTF-16 modifier produced. */
function bytesOf(mod: string, v: SigmaValue): Uint8Array {
  const text = plainOf(mod, v);
  if (v.t === "str" && v.binary) {
    const b = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) b[i] = text.charCodeAt(i) & 0xff;
    return b;
  }
  return new TextEncoder().encode(text);
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

const base64: Modifier = {
  name: "base64",
  apply(v) {
    const enc = b64(bytesOf("base64", v));
    return { t: "str", parts: [{ lit: enc }], raw: enc, cased: true };
  },
};

/**
 * The value somewhere inside base64 text: three encodings for the three byte alignments, with the
 * characters that depend on neighbouring bytes cut off (pySigma's offsets). Always matched
 * anywhere in the field (a fragment can never be a whole value).
 */
const START_OFFSETS = [0, 2, 3];
const END_OFFSETS = [0, -3, -2];
const base64offset: Modifier = {
  name: "base64offset",
  apply(v) {
    const bytes = bytesOf("base64offset", v);
    const out: SigmaValue[] = [];
    for (let i = 0; i < 3; i++) {
      const padded = new Uint8Array(i + bytes.length);
      padded.fill(0x20, 0, i);
      padded.set(bytes, i);
      const enc = b64(padded);
      const endOff = END_OFFSETS[(bytes.length + i) % 3]!;
      const frag = enc.slice(START_OFFSETS[i]!, endOff === 0 ? undefined : enc.length + endOff);
      out.push({ t: "str", parts: [ANY, { lit: frag }, ANY], raw: frag, cased: true });
    }
    return { t: "expansion", values: out };
  },
};

/** UTF-16 encodings of the literal parts, one char per byte; wildcards stay wildcards. */
function utf16(name: string, order: "le" | "be", bom: boolean): Modifier {
  return {
    name,
    apply(v0) {
      const v = asString(v0);
      if (v.t !== "str") throw wrongType(name, v, "a string");
      if (v.binary) throw new RuleError(`modifier '${name}' applied to an already encoded value`);
      const parts: ValuePart[] = [];
      if (bom) parts.push({ lit: order === "le" ? "\xff\xfe" : "\xfe\xff" });
      for (const p of v.parts) {
        if (!("lit" in p)) {
          parts.push(p);
          continue;
        }
        let s = "";
        for (let i = 0; i < p.lit.length; i++) {
          const c = p.lit.charCodeAt(i);
          const lo = String.fromCharCode(c & 0xff);
          const hi = String.fromCharCode(c >> 8);
          s += order === "le" ? lo + hi : hi + lo;
        }
        parts.push({ lit: s });
      }
      return { ...v, parts, binary: true };
    },
  };
}

/**
 * Windows command-line flags: a `-` or `/` that starts a word (pySigma: `\B[-/]\b`) becomes each of
 * `-`, `/`, en dash, em dash and horizontal bar; several such places give every combination.
 */
const WINDASH_CHARS = ["-", "/", "\u2013", "\u2014", "\u2015"];
const WINDASH_AT = /\B[-/]\b/g;
const MAX_WINDASH_PLACES = 5;
const windash: Modifier = {
  name: "windash",
  apply(v0) {
    const v = asString(v0);
    if (v.t !== "str") throw wrongType("windash", v, "a string");
    // Split literals at each flag dash, remembering where the alternatives go.
    const segs: (ValuePart | "dash")[] = [];
    let places = 0;
    for (const p of v.parts) {
      if (!("lit" in p)) {
        segs.push(p);
        continue;
      }
      let from = 0;
      WINDASH_AT.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = WINDASH_AT.exec(p.lit)) !== null) {
        if (m.index > from) segs.push({ lit: p.lit.slice(from, m.index) });
        segs.push("dash");
        places++;
        from = m.index + 1;
      }
      if (from < p.lit.length) segs.push({ lit: p.lit.slice(from) });
    }
    if (places === 0) return v;
    if (places > MAX_WINDASH_PLACES) {
      throw new RuleUnsupported(`windash: ${places} flag dashes in '${v.raw}' would give ${5 ** places} variants`);
    }
    let variants: ValuePart[][] = [[]];
    for (const s of segs) {
      if (s === "dash") {
        const next: ValuePart[][] = [];
        for (const pre of variants) for (const d of WINDASH_CHARS) next.push([...pre, { lit: d }]);
        variants = next;
      } else for (const pre of variants) pre.push(s);
    }
    return { t: "expansion", values: variants.map((parts) => ({ ...v, parts: mergeLits(parts) })) };
  },
};

function mergeLits(parts: ValuePart[]): ValuePart[] {
  const out: ValuePart[] = [];
  for (const p of parts) {
    const prev = out[out.length - 1];
    if ("lit" in p && prev && "lit" in prev) out[out.length - 1] = { lit: prev.lit + p.lit };
    else out.push(p);
  }
  return out;
}

const re: Modifier = {
  name: "re",
  apply(v, _s, applied) {
    if (applied.length > 0) throw new RuleError(`modifier 're' must come first (after '${applied.join("|")}')`);
    const s = asString(v);
    if (s.t !== "str") throw wrongType("re", v, "a string");
    try {
      new RegExp(s.raw);
    } catch (e) {
      // JavaScript and PCRE differ in corners; only reject what neither accepts.
      if (!/\(\?[a-zA-Z]|\\[AZzQE]|\(\?<[!=]|\(\?>|\+\+|\*\+/.test(s.raw)) {
        throw new RuleError(`invalid regular expression '${s.raw}': ${(e as Error).message}`);
      }
    }
    return { t: "re", pattern: s.raw, flags: { i: false, m: false, s: false } };
  },
};

function reFlag(name: string, flag: "i" | "m" | "s"): Modifier {
  return {
    name,
    apply(v) {
      if (v.t !== "re") throw new RuleError(`modifier '${name}' only applies after 're'`);
      return { ...v, flags: { ...v.flags, [flag]: true } };
    },
  };
}

const cidr: Modifier = {
  name: "cidr",
  apply(v, _s, applied) {
    if (applied.length > 0) throw new RuleError(`modifier 'cidr' must come first (after '${applied.join("|")}')`);
    const s = asString(v);
    if (s.t !== "str") throw wrongType("cidr", v, "a string");
    const n = normalizeCidr(s.raw);
    if (!n) throw new RuleError(`invalid CIDR network '${s.raw}'`);
    return { t: "cidr", cidr: n };
  },
};

const all: Modifier = {
  name: "all",
  apply(v, state) {
    state.all = true;
    return v;
  },
};

const cased: Modifier = {
  name: "cased",
  apply(v0) {
    const v = asString(v0);
    if (v.t === "str") return { ...v, cased: true };
    throw wrongType("cased", v, "a string");
  },
};

const exists: Modifier = {
  name: "exists",
  apply(v, state, applied) {
    if (state.field === undefined) throw new RuleError("modifier 'exists' needs a field");
    if (applied.length > 0) throw new RuleError(`modifier 'exists' must come alone (after '${applied.join("|")}')`);
    if (v.t === "bool") return { t: "exists", value: v.value };
    if (v.t === "str" && /^(true|false)$/i.test(v.raw)) return { t: "exists", value: v.raw.toLowerCase() === "true" };
    throw wrongType("exists", v, "true or false");
  },
};

function numberOf(mod: string, v: SigmaValue): number {
  if (v.t === "num") return v.value;
  if (v.t === "str" && !hasWildcard(v.parts) && v.raw.trim() !== "" && Number.isFinite(Number(v.raw)))
    return Number(v.raw);
  throw wrongType(mod, v, "a number");
}

function compare(op: CompareOp): Modifier {
  return {
    name: op,
    apply(v) {
      return { t: "cmp", op, value: numberOf(op, v) };
    },
  };
}

const neq: Modifier = {
  name: "neq",
  apply(v, state) {
    state.negate = true;
    return v;
  },
};

const fieldref: Modifier = {
  name: "fieldref",
  apply(v) {
    const s = asString(v);
    if (s.t !== "str") throw wrongType("fieldref", v, "a field name");
    if (hasWildcard(s.parts)) throw new RuleError(`a field reference cannot hold wildcards ('${s.raw}')`);
    return { t: "fieldref", field: s.raw };
  },
};

/**
 * Placeholders `%name%` replaced by the values of the placeholders file; several values (or several
 * placeholders) give every combination, ORed. Placeholder values are Sigma strings themselves.
 */
const expand: Modifier = {
  name: "expand",
  apply(v, state) {
    if (v.t !== "str") throw wrongType("expand", v, "a string");
    let variants: ValuePart[][] = [[]];
    for (const p of v.parts) {
      if (!("ph" in p)) {
        for (const pre of variants) pre.push(p);
        continue;
      }
      const vals = state.placeholders?.[p.ph];
      if (!vals || vals.length === 0) throw new RuleUnsupported(`placeholder %${p.ph}% has no value`);
      const next: ValuePart[][] = [];
      for (const pre of variants) for (const val of vals) next.push([...pre, ...parseSigmaString(val)]);
      variants = next;
    }
    const values = variants.map((parts) => ({ ...v, parts: mergeLits(parts) }));
    return values.length === 1 ? values[0]! : { t: "expansion", values };
  },
};

function timePart(name: string): Modifier {
  return {
    name,
    apply() {
      throw new RuleUnsupported(`time modifier '${name}' is not supported`);
    },
  };
}

export const MODIFIERS: ReadonlyMap<string, Modifier> = new Map(
  [
    positional("contains", true, true),
    positional("startswith", false, true),
    positional("endswith", true, false),
    all,
    base64,
    base64offset,
    utf16("utf16le", "le", false),
    utf16("wide", "le", false),
    utf16("utf16be", "be", false),
    utf16("utf16", "le", true),
    windash,
    re,
    reFlag("i", "i"),
    reFlag("ignorecase", "i"),
    reFlag("m", "m"),
    reFlag("multiline", "m"),
    reFlag("s", "s"),
    reFlag("dotall", "s"),
    cidr,
    exists,
    cased,
    expand,
    compare("gt"),
    compare("gte"),
    compare("lt"),
    compare("lte"),
    neq,
    fieldref,
    ...["minute", "hour", "day", "week", "month", "year"].map(timePart),
  ].map((m) => [m.name, m]),
);

/** Applies a modifier to a value; expansions are transformed element by element. */
export function applyModifier(m: Modifier, v: SigmaValue, state: ItemState, applied: readonly string[]): SigmaValue[] {
  if (v.t === "expansion") {
    const values: SigmaValue[] = [];
    for (const x of v.values) values.push(...applyModifier(m, x, state, applied));
    return [{ t: "expansion", values }];
  }
  const r = m.apply(v, state, applied);
  return Array.isArray(r) ? r : [r];
}
