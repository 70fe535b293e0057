/**
 * The lowering pass: each predicate of the representation into one match op (ops.ts), with every
 * normalisation the three matchers share applied here and nowhere else:
 * - the wildcard shape (a pattern that is a whole value, a prefix, a suffix or a contains is that op);
 * - an empty prefix / suffix / contains is `exists`;
 * - equals on an ip field is address equality (/128), on a long/double field numeric equality of a
 *   decimal text, on a boolean field "true"/"false"; anything else there matches nothing;
 * - a number on a keyword field is its text (eq) or Java's parseDouble of the value (gt, …);
 * - case folding: a value is compared exactly when cased or without ASCII letters, else folded;
 * - the refusals: what no matcher can run throws `RuleUnsupported` (a rule that is wrong: `RuleError`,
 *   src/ir/errors.ts), with the message the user sees, so the three emitters refuse the same rules
 *   with the same words.
 * A regex is live exactly when its NFA program exists (src/ir/regex/nfa.ts toNfa); the query side
 * then always has a clause (a Lucene `regexp`, or the script query running the same program).
 * A rule tree lowers into a plan (`lowerNode`): the same and/or/not shape with a match op at each
 * leaf, what the Painless encoder and the index keys (index-keys.ts) walk.
 */
import { wildcardShape } from "../../ir/build.ts";
import { RuleError, RuleUnsupported } from "../../ir/errors.ts";
import { cidrNetwork, ipBytes, isCidr, isIp, normalizeCidr } from "../../ir/ip.ts";
import { toNfa } from "../../ir/regex/nfa.ts";
import { caseless, DECIMAL, foldAscii, globParams, isStringField } from "../../ir/semantics.ts";
import type { Field, Node, Predicate, WildcardPart } from "../../ir/types.ts";
import type { ExistsMatch, MatchOp, StringMatch, StringTest, View } from "./ops.ts";

const NEVER: MatchOp = { kind: "const", value: false };

/** The view string predicates (and exists, fieldref) compare: keyword text, or the typed doc value's text. */
export function stringView(f: Field): View {
  return isStringField(f) ? "keyword" : (f.type as View);
}

function str(test: StringTest, field: Field, value: string, cased: boolean): StringMatch {
  const exact = cased || caseless(value);
  return {
    kind: "string",
    test,
    field,
    view: stringView(field),
    value,
    cased,
    exact,
    compare: exact ? value : foldAscii(value),
  };
}

function exists(field: Field, present = true): ExistsMatch {
  return { kind: "exists", field, view: stringView(field), exists: present };
}

function affix(test: Exclude<StringTest, "eq">, field: Field, value: string, cased: boolean): MatchOp {
  return value === "" ? exists(field) : str(test, field, value, cased);
}

function equals(field: Field, value: string, cased: boolean): MatchOp {
  if (isStringField(field)) return str("eq", field, value, cased);
  switch (field.type) {
    case "ip":
      return isIp(value) ? { kind: "cidr", field, text: value, bytes: ipBytes(value), bits: 128 } : NEVER;
    case "long":
    case "double":
      return DECIMAL.test(value.trim())
        ? { kind: "number", field, view: field.type, cmp: "eq", value: Number(value) }
        : NEVER;
    case "boolean": {
      const v = cased ? value : value.toLowerCase();
      return v === "true" || v === "false"
        ? { kind: "bool", field, view: stringView(field), value: v === "true" }
        : NEVER;
    }
    default:
      return str("eq", field, value, cased);
  }
}

/** A wildcard pattern on one field (also each field of a keyword search). */
function pattern(field: Field, parts: WildcardPart[], cased: boolean): MatchOp {
  const shape = wildcardShape(parts);
  switch (shape.kind) {
    case "equals":
      return equals(field, shape.value, cased);
    case "prefix":
    case "suffix":
    case "contains":
      return affix(shape.kind, field, shape.value, cased);
    case "wildcard": {
      const { value, mask } = globParams(parts);
      const exact = cased || caseless(value.replace(/\*/g, ""));
      let segments: string[] | undefined;
      // Only `*` wildcards: the literal segments between them (matched with indexOf, no per-character loop).
      if (!mask.includes("2")) {
        segments = [""];
        for (const p of parts) {
          if ("lit" in p) segments[segments.length - 1] += exact ? p.lit : foldAscii(p.lit);
          else segments.push("");
        }
      }
      return {
        kind: "glob",
        field,
        view: stringView(field),
        parts,
        cased,
        exact,
        pattern: exact ? value : foldAscii(value),
        mask,
        ...(segments ? { segments } : {}),
      };
    }
  }
}

/** A rule tree with each predicate lowered: what the emitters and the index keys (index-keys.ts) walk. */
export type PlanNode =
  | { kind: "and" | "or"; children: PlanNode[] }
  | { kind: "not"; child: PlanNode }
  | { kind: "const"; value: boolean }
  | { kind: "op"; op: MatchOp };

/** The plan of a rule tree; throws, as lowerPredicate, at the first predicate (depth first) no matcher runs. */
export function lowerNode(n: Node): PlanNode {
  switch (n.kind) {
    case "and":
    case "or":
      return { kind: n.kind, children: n.children.map(lowerNode) };
    case "not":
      return { kind: "not", child: lowerNode(n.child) };
    case "const":
      return n;
    default:
      return { kind: "op", op: lowerPredicate(n) };
  }
}

/** The match op of one predicate; throws RuleUnsupported / RuleError for what no matcher runs. */
export function lowerPredicate(p: Predicate): MatchOp {
  switch (p.kind) {
    case "equals":
      return equals(p.field, p.value, p.cased);
    case "prefix":
    case "suffix":
    case "contains":
      return affix(p.kind, p.field, p.value, p.cased);
    case "wildcard":
      return pattern(p.field, p.parts, p.cased);
    case "keyword":
      return { kind: "anyField", fields: p.fields.map((field) => ({ field, op: pattern(field, p.parts, p.cased) })) };
    case "exists":
      return exists(p.field, p.exists);
    case "fieldref":
      return {
        kind: "fieldref",
        field: p.field,
        view: stringView(p.field),
        other: p.other,
        otherView: stringView(p.other),
        cased: p.cased,
      };
    case "number": {
      const f = p.field;
      if (!Number.isFinite(p.value)) throw new RuleError(`${f.name}: number ${p.value} is not finite`);
      if (f.type === "long" || f.type === "double")
        return { kind: "number", field: f, view: f.type, cmp: p.op, value: p.value };
      if (isStringField(f))
        return p.op === "eq"
          ? str("eq", f, String(p.value), true)
          : { kind: "number", field: f, view: "keyword", cmp: p.op, value: p.value };
      if (f.type === "boolean") {
        if (p.op === "eq")
          return p.value === 1 || p.value === 0
            ? { kind: "bool", field: f, view: stringView(f), value: p.value === 1 }
            : NEVER;
        throw new RuleUnsupported(`${f.name}: numeric comparison on a boolean field`);
      }
      throw new RuleUnsupported(`${f.name}: numeric comparison on a field of type ${f.type}`);
    }
    case "regex": {
      if (!isStringField(p.field))
        throw new RuleUnsupported(`${p.field.name}: regular expression on a field of type ${p.field.type}`);
      const program = toNfa(p.regex);
      if ("unsupported" in program) throw new RuleUnsupported(`${p.field.name}|re: ${program.unsupported}`);
      return { kind: "regex", field: p.field, view: "keyword", regex: p.regex, program };
    }
    case "cidr": {
      if (p.field.type !== "ip")
        throw new RuleUnsupported(`${p.field.name}|cidr: the field is mapped as ${p.field.type}, not ip`);
      if (!isCidr(p.cidr)) throw new RuleError(`${p.field.name}|cidr: '${p.cidr}' is not an IPv4 or IPv6 network`);
      const net = cidrNetwork(p.cidr);
      return { kind: "cidr", field: p.field, text: normalizeCidr(p.cidr)!, bytes: net.bytes, bits: net.bits };
    }
  }
}
