/**
 * IR nodes as the op-code lists the fixed Painless matcher evaluates (params `r`; each node a list
 * headed by an OP code of layout.ts). Each predicate is lowered once (src/emit/match-plan/lower.ts)
 * and its match op serialised here. Also: the field views (params `f`), regex programs (`x`), and the
 * memo slots shared subtrees become (`mc`).
 */
import type { Field, Node } from "../../ir/types.ts";
import { lowerPredicate, type PlanNode, stringView as matchView } from "../match-plan/lower.ts";
import { type MatchOp, unhandledOp } from "../match-plan/ops.ts";
import { CMP, OP, TYPE, VIEW } from "./layout.ts";

/** String ops an OR of several on one field folds into one ANYSTR node. */
const FOLDABLE: ReadonlySet<number> = new Set([OP.EQ, OP.CONTAINS, OP.PREFIX, OP.SUFFIX]);

const CMP_OF = { eq: CMP.EQ, gt: CMP.GT, gte: CMP.GTE, lt: CMP.LT, lte: CMP.LTE } as const;

const STRING_OP = { eq: OP.EQ, contains: OP.CONTAINS, prefix: OP.PREFIX, suffix: OP.SUFFIX } as const;

export type Enc = unknown[];

/** The view string predicates (and exists, fieldref) compare: keyword text, or the typed doc value's text. */
export function stringView(f: Field): number {
  return TYPE[matchView(f)];
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

  /** One match op as its op-code list (src/emit/match-plan/ops.ts names each). */
  op(m: MatchOp): Enc {
    switch (m.kind) {
      case "string":
        return [STRING_OP[m.test], this.field(m.field, TYPE[m.view]), m.exact ? 1 : 0, m.compare];
      case "glob": {
        const enc: Enc = [OP.GLOB, this.field(m.field, TYPE[m.view]), m.exact ? 1 : 0, m.pattern, m.mask];
        if (m.segments) enc.push(m.segments);
        return enc;
      }
      case "number":
        return [m.view === "keyword" ? OP.KNUM : OP.NUM, this.field(m.field, TYPE[m.view]), CMP_OF[m.cmp], m.value];
      case "bool":
        return [OP.BOOL, this.field(m.field, TYPE[m.view]), m.value ? 1 : 0];
      case "cidr":
        return [OP.CIDR, this.field(m.field, TYPE.ip), m.bytes, m.bits];
      case "regex":
        this.regexes.push(m.program);
        return [OP.REGEX, this.field(m.field, TYPE[m.view]), this.regexes.length - 1];
      case "exists": {
        const e: Enc = [OP.EXISTS, this.field(m.field, TYPE[m.view])];
        return m.exists ? e : [OP.NOT, e];
      }
      case "const":
        return [m.value ? OP.TRUE : OP.FALSE];
      case "fieldref":
        return [
          OP.FIELDREF,
          this.field(m.field, TYPE[m.view]),
          this.field(m.other, TYPE[m.otherView]),
          m.cased ? 1 : 0,
        ];
      case "anyField": {
        if (m.fields.length === 0) return [OP.FALSE];
        // Per field path, so that the matcher looks only at the fields the event holds.
        const byPath: Record<string, Enc[]> = Object.create(null);
        for (const { field, op } of m.fields) (byPath[field.name] ??= []).push(this.op(op));
        return keywordNode(byPath);
      }
      default:
        return unhandledOp(m);
    }
  }

  /** A rule tree, lowering each predicate as it meets it (a refusal throws after the fields before it are registered). */
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
        return this.op(lowerPredicate(n));
    }
  }

  /** A lowered rule tree (lower.ts lowerNode): the same op codes as `node` of the tree it lowers. */
  plan(n: PlanNode): Enc {
    switch (n.kind) {
      case "and":
        return [OP.AND, ...n.children.map((c) => this.plan(c))];
      case "or":
        return orNode(n.children.map((c) => this.plan(c)));
      case "not":
        return [OP.NOT, this.plan(n.child)];
      case "const":
        return [n.value ? OP.TRUE : OP.FALSE];
      case "op":
        return this.op(n.op);
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
  // Each distinct subtree gets a number (a leaf by its JSON, a compound node by its code and its
  // children's numbers): equal numbers, equal subtrees, without building the text of big trees.
  const ids = new Map<string, number>();
  const intern = (key: string): number => {
    let id = ids.get(key);
    if (id === undefined) ids.set(key, (id = ids.size));
    return id;
  };
  const idOf = new Map<Enc, number>();
  const count: number[] = [];
  const visit = (n: Enc): number => {
    if (!compound(n)) return intern(JSON.stringify(n));
    let key = `(${n[0]}`;
    for (let i = 1; i < n.length; i++) key += `,${visit(n[i] as Enc)}`;
    const id = intern(key);
    idOf.set(n, id);
    count[id] = (count[id] ?? 0) + 1;
    return id;
  };
  for (const [c, w] of rules) {
    visit(c);
    if (w) visit(w);
  }
  const slotOf = new Map<number, number>();
  const rewrite = (n: Enc): Enc => {
    if (!compound(n)) return n;
    const enc: Enc = [n[0]];
    for (let i = 1; i < n.length; i++) enc.push(rewrite(n[i] as Enc));
    const id = idOf.get(n)!;
    if (count[id]! < 2) return enc;
    let slot = slotOf.get(id);
    if (slot === undefined) slotOf.set(id, (slot = slotOf.size));
    return [OP.MEMO, slot, enc];
  };
  for (const r of rules) {
    r[0] = rewrite(r[0]);
    if (r[1]) r[1] = rewrite(r[1]);
  }
  return slotOf.size;
}
