/**
 * IR nodes as the op-code lists the fixed Painless matcher evaluates (params `r`; each node a list
 * headed by an OP code of layout.ts). Predicates are translated exactly as src/emit/dsl.ts translates
 * them (empty prefix → exists, equals on ip → address equality, …), so both sides see the same
 * predicate after normalisation. Also: the field views (params `f`), regex programs (`x`), and the
 * memo slots shared subtrees become (`mc`).
 */
import type { Field, Node, Predicate, WildcardPart } from "../../ir/types.ts";
import { wildcardShape } from "../../ir/build.ts";
import { cidrNetwork, ipBytes, isCidr, isIp } from "../../ir/ip.ts";
import { caseless, DECIMAL, foldAscii, globParams, isStringField } from "../../ir/semantics.ts";
import { CMP, OP, TYPE, VIEW } from "./layout.ts";
import { regexProgram } from "./regex.ts";

/** String ops an OR of several on one field folds into one ANYSTR node. */
const FOLDABLE: ReadonlySet<number> = new Set([OP.EQ, OP.CONTAINS, OP.PREFIX, OP.SUFFIX]);

const CMP_OF = { eq: CMP.EQ, gt: CMP.GT, gte: CMP.GTE, lt: CMP.LT, lte: CMP.LTE } as const;

/**
 * The matchers' keyword length limit: none (-1). Live, backfill and scan decide on `_source`, so a value
 * of any length is seen (an attacker cannot pad a command line past the index's `ignore_above`); the
 * backfill's candidate query widens where the index kept no keyword (src/emit/dsl.ts).
 */
export const DEFAULT_IGNORE_ABOVE = -1;

export class EncodeError extends Error {
  override name = "EncodeError";
}

export type Enc = unknown[];

/** The view string predicates (and exists, fieldref) compare: keyword text, or the typed doc value's text. */
export function stringView(f: Field): number {
  return isStringField(f) ? 0 : TYPE[f.type];
}

export class Encoder {
  fields: [string, number, number][] = [];
  fieldIdx = new Map<string, number>();
  regexes: unknown[] = [];
  constructor(private ignoreAbove: number) {}

  /** A field's value view: `type` (default: what string predicates compare, see stringView). */
  field(f: Field, type: number = stringView(f)): number {
    const key = `${f.name}\u0000${type}`;
    let i = this.fieldIdx.get(key);
    if (i === undefined) {
      i = this.fields.length;
      this.fields.push([f.name, type, type === VIEW.KEYWORD || type === VIEW.DATE ? this.ignoreAbove : -1]);
      this.fieldIdx.set(key, i);
    }
    return i;
  }

  str(op: number, f: Field, value: string, cased: boolean): Enc {
    const exact = cased || caseless(value);
    return [op, this.field(f), exact ? 1 : 0, exact ? value : foldAscii(value)];
  }

  exists(f: Field): Enc {
    return [OP.EXISTS, this.field(f)];
  }

  equals(f: Field, value: string, cased: boolean): Enc {
    if (isStringField(f)) return this.str(OP.EQ, f, value, cased);
    switch (f.type) {
      case "ip":
        return isIp(value) ? [OP.CIDR, this.field(f, TYPE.ip), ipBytes(value), 128] : [OP.FALSE];
      case "long":
      case "double":
        return DECIMAL.test(value.trim()) ? [OP.NUM, this.field(f), CMP_OF.eq, Number(value)] : [OP.FALSE];
      case "boolean": {
        const v = cased ? value : value.toLowerCase();
        return v === "true" || v === "false" ? [OP.BOOL, this.field(f), v === "true" ? 1 : 0] : [OP.FALSE];
      }
      default:
        return this.str(OP.EQ, f, value, cased);
    }
  }

  pattern(f: Field, parts: WildcardPart[], cased: boolean): Enc {
    const shape = wildcardShape(parts);
    switch (shape.kind) {
      case "equals":
        return this.equals(f, shape.value, cased);
      case "prefix":
        return shape.value === "" ? this.exists(f) : this.str(OP.PREFIX, f, shape.value, cased);
      case "suffix":
        return shape.value === "" ? this.exists(f) : this.str(OP.SUFFIX, f, shape.value, cased);
      case "contains":
        return shape.value === "" ? this.exists(f) : this.str(OP.CONTAINS, f, shape.value, cased);
      default: {
        const { value: pat, mask } = globParams(parts);
        const exact = cased || caseless(pat.replace(/\*/g, ""));
        const enc: Enc = [OP.GLOB, this.field(f), exact ? 1 : 0, exact ? pat : foldAscii(pat), mask];
        // Only `*` wildcards: the literal segments between them, matched with indexOf (no per-character
        // loop, so long values stay far from Painless' loop limit).
        if (!mask.includes("2")) {
          const segs: string[] = [""];
          for (const p of parts) {
            if ("lit" in p) segs[segs.length - 1] += exact ? p.lit : foldAscii(p.lit);
            else segs.push("");
          }
          enc.push(segs);
        }
        return enc;
      }
    }
  }

  predicate(p: Predicate): Enc {
    switch (p.kind) {
      case "equals":
        return this.equals(p.field, p.value, p.cased);
      case "prefix":
        return p.value === "" ? this.exists(p.field) : this.str(OP.PREFIX, p.field, p.value, p.cased);
      case "suffix":
        return p.value === "" ? this.exists(p.field) : this.str(OP.SUFFIX, p.field, p.value, p.cased);
      case "contains":
        return p.value === "" ? this.exists(p.field) : this.str(OP.CONTAINS, p.field, p.value, p.cased);
      case "wildcard":
        return this.pattern(p.field, p.parts, p.cased);
      case "keyword": {
        if (p.fields.length === 0) return [OP.FALSE];
        // Per field path, so that the matcher looks only at the fields the event holds.
        const byPath: Record<string, Enc[]> = Object.create(null);
        for (const f of p.fields) (byPath[f.name] ??= []).push(this.pattern(f, p.parts, p.cased));
        return keywordNode(byPath);
      }
      case "exists":
        return p.exists ? this.exists(p.field) : [OP.NOT, this.exists(p.field)];
      case "fieldref":
        return [OP.FIELDREF, this.field(p.field), this.field(p.other), p.cased ? 1 : 0];
      case "number": {
        const f = p.field;
        if (!Number.isFinite(p.value)) throw new EncodeError(`${f.name}: number ${p.value} is not finite`);
        if (f.type === "long" || f.type === "double")
          return [OP.NUM, this.field(f, TYPE[f.type]), CMP_OF[p.op], p.value];
        if (isStringField(f))
          return p.op === "eq"
            ? [OP.EQ, this.field(f), 1, String(p.value)]
            : [OP.KNUM, this.field(f), CMP_OF[p.op], p.value];
        switch (f.type) {
          case "boolean":
            if (p.op === "eq") return p.value === 1 || p.value === 0 ? [OP.BOOL, this.field(f), p.value] : [OP.FALSE];
            throw new EncodeError(`${f.name}: numeric comparison on a boolean field`);
          default:
            throw new EncodeError(`${f.name}: numeric comparison on a field of type ${f.type}`);
        }
      }
      case "regex": {
        if (!isStringField(p.field))
          throw new EncodeError(`${p.field.name}: regular expression on a field of type ${p.field.type}`);
        const prog = regexProgram(p.regex);
        if ("unsupported" in prog) throw new EncodeError(`${p.field.name}|re: ${prog.unsupported}`);
        this.regexes.push(prog.program);
        return [OP.REGEX, this.field(p.field), this.regexes.length - 1, prog.folded ? 1 : 0];
      }
      case "cidr": {
        if (p.field.type !== "ip")
          throw new EncodeError(`${p.field.name}|cidr: the field is mapped as ${p.field.type}, not ip`);
        if (!isCidr(p.cidr)) throw new EncodeError(`${p.field.name}|cidr: '${p.cidr}' is not an IPv4 or IPv6 network`);
        const net = cidrNetwork(p.cidr);
        return [OP.CIDR, this.field(p.field, TYPE.ip), net.bytes, net.bits];
      }
    }
  }

  node(n: Node): Enc {
    switch (n.kind) {
      case "and":
        return [OP.AND, ...n.children.map((c) => this.node(c))];
      case "or":
        return orNode(n.children.map((c) => this.node(c)));
      case "not":
        return [OP.NOT, this.node(n.child)];
      case "const":
        return [n.value ? OP.TRUE : OP.FALSE];
      default:
        return this.predicate(n);
    }
  }
}

/**
 * An OR, with its keyword searches merged into one KEYWORD node ({path: [per-field nodes]}, whose
 * per-field lists become ORs) and the same string test on the same field over several values folded
 * into one ANYSTR node [ANYSTR, op, field, exact, [values…]]: one step of the matcher per field
 * instead of one per value.
 */
function orNode(kids: Enc[]): Enc {
  const out: Enc[] = [];
  let keyword: Record<string, Enc[]> | undefined;
  const groups = new Map<string, Enc[]>();
  for (const k of kids) {
    if (k[0] === OP.KEYWORD) {
      keyword ??= Object.create(null) as Record<string, Enc[]>;
      for (const [path, node] of Object.entries(k[1] as Record<string, Enc>)) (keyword[path] ??= []).push(node);
    } else if (FOLDABLE.has(k[0] as number) && k.length === 4) {
      const g = `${k[0]}:${k[1]}:${k[2]}`;
      if (!groups.has(g)) {
        groups.set(g, []);
        out.push(["group", g]);
      }
      groups.get(g)!.push(k);
    } else out.push(k);
  }
  const flat = out.map((k) => {
    if (k[0] !== "group") return k;
    const members = groups.get(k[1] as string)!;
    if (members.length === 1) return members[0]!;
    const [op, fi, exact] = members[0]!;
    return [OP.ANYSTR, op, fi, exact, members.map((m) => m[3])];
  });
  if (keyword) flat.push(keywordNode(keyword));
  return flat.length === 1 ? flat[0]! : [OP.OR, ...flat];
}

/** [KEYWORD, {path: node}]: true when a field the event holds satisfies its node (absent fields never do). */
function keywordNode(byPath: Record<string, Enc[]>): Enc {
  const out: Record<string, Enc> = Object.create(null);
  for (const [path, list] of Object.entries(byPath)) out[path] = list.length === 1 ? list[0]! : orNode(list);
  return [OP.KEYWORD, out];
}

/** Replaces compound subtrees seen more than once across the rules by memo nodes; returns the slot count. */
export function memoize(rules: [Enc, Enc | null][]): number {
  const compound = (n: Enc) => n[0] === OP.AND || n[0] === OP.OR || n[0] === OP.NOT;
  const count = new Map<string, number>();
  const visit = (n: Enc): string => {
    if (!compound(n)) return JSON.stringify(n);
    const key = `[${n[0]},${n
      .slice(1)
      .map((c) => visit(c as Enc))
      .join(",")}]`;
    count.set(key, (count.get(key) ?? 0) + 1);
    return key;
  };
  for (const [c, w] of rules) {
    visit(c);
    if (w) visit(w);
  }
  const slots = new Map<string, number>();
  const rewrite = (n: Enc): { enc: Enc; key: string } => {
    if (!compound(n)) return { enc: n, key: JSON.stringify(n) };
    const kids = n.slice(1).map((c) => rewrite(c as Enc));
    const key = `[${n[0]},${kids.map((k) => k.key).join(",")}]`;
    const enc: Enc = [n[0], ...kids.map((k) => k.enc)];
    if ((count.get(key) ?? 0) < 2) return { enc, key };
    let slot = slots.get(key);
    if (slot === undefined) slots.set(key, (slot = slots.size));
    return { enc: [OP.MEMO, slot, enc], key };
  };
  for (const r of rules) {
    r[0] = rewrite(r[0]).enc;
    if (r[1]) r[1] = rewrite(r[1]).enc;
  }
  return slots.size;
}
