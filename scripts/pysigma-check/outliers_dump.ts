/**
 * Our reading of Sigma rules in the same canonical JSON as pysigma_dump.py: values after the
 * modifier chain (placeholders left unexpanded, as pySigma leaves them) and condition trees.
 * Usage: bun outliers_dump.ts FILE... > out.jsonl
 */
import { readFileSync } from "node:fs";
import type { Node } from "../../src/ir/types.ts";
import { evalCondition, parseCondition } from "../../src/rules/sigma/condition.ts";
import { applyModifier, MODIFIERS, type ItemState, type SigmaValue } from "../../src/rules/sigma/modifiers.ts";
import { NumLit, parseSigmaFile } from "../../src/rules/sigma/parse.ts";
import { parseSigmaString, parseSigmaStringWithPlaceholders } from "../../src/rules/sigma/values.ts";

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof NumLit);
const flatten = (a: unknown[]): unknown[] => a.flatMap((x) => (Array.isArray(x) ? flatten(x) : [x]));

function canon(v: SigmaValue, cased: boolean): unknown {
  switch (v.t) {
    case "str":
      return {
        s: v.parts.map((p) =>
          "lit" in p ? { lit: p.lit } : "any" in p ? { any: 1 } : "one" in p ? { one: 1 } : { ph: p.ph },
        ),
        ...(cased ? { cased: true } : {}),
      };
    case "num":
      return { num: v.value };
    case "bool":
      return { bool: v.value };
    case "null":
      return { null: true };
    case "re":
      return { re: v.pattern, flags: (["i", "m", "s"] as const).filter((f) => v.flags[f]).join("") };
    case "cidr":
      return { cidr: v.cidr };
    case "cmp":
      return { cmp: v.op, num: v.value };
    case "exists":
      return { exists: v.value };
    case "fieldref":
      return { fieldref: v.field };
    case "expansion":
      return { exp: v.values.map((x) => canon(x, cased)) };
  }
}

function item(field: string | undefined, mods: string[], raws: unknown[]): unknown {
  const state: ItemState = { field, all: false, negate: false };
  const chain = mods.map((m) => MODIFIERS.get(m.toLowerCase()));
  if (chain.some((m) => !m)) return { field: field ?? null, error: "unknown modifier" };
  const expand = chain.some((m) => m!.name === "expand");
  let values: SigmaValue[] = raws.map(
    (r): SigmaValue =>
      typeof r === "string"
        ? { t: "str", parts: expand ? parseSigmaStringWithPlaceholders(r) : parseSigmaString(r), raw: r }
        : typeof r === "number"
          ? { t: "num", value: r, src: String(r) }
          : r instanceof NumLit
            ? { t: "num", value: r.value, src: r.src }
            : typeof r === "boolean"
              ? { t: "bool", value: r }
              : { t: "null" },
  );
  const applied: string[] = [];
  try {
    for (const m of chain) {
      if (m!.name !== "expand")
        values = values.flatMap((v) => (v.t === "null" ? [v] : applyModifier(m!, v, state, applied)));
      applied.push(m!.name);
    }
  } catch (e) {
    return { field: field ?? null, error: (e as Error).message };
  }
  const cased = chain.some((m) => m!.name === "cased");
  return { field: field ?? null, link: state.all ? "and" : "or", values: values.map((v) => canon(v, cased)) };
}

function search(v: unknown): unknown {
  if (isMap(v)) {
    return {
      and: Object.entries(v).map(([k, val]) => {
        const [f, ...mods] = k.split("|");
        return item(f === "" ? undefined : f, mods, Array.isArray(val) ? flatten(val) : [val]);
      }),
    };
  }
  if (Array.isArray(v)) {
    const kids = v.filter(isMap).map(search);
    const keywords = v.filter((x) => !isMap(x));
    if (keywords.length) kids.push(item(undefined, [], keywords));
    return { or: kids };
  }
  return item(undefined, [], [v]);
}

function tree(n: Node): unknown {
  if (n.kind === "and" || n.kind === "or") return { [n.kind]: n.children.map(tree) };
  if (n.kind === "not") return { not: tree(n.child) };
  if (n.kind === "equals") return { id: n.value };
  return { other: n.kind };
}

const lines: string[] = [];
for (const path of process.argv.slice(2)) {
  const d = parseSigmaFile(path, readFileSync(path, "utf8"))[0]!;
  if ("failure" in d) {
    lines.push(JSON.stringify({ path, error: d.failure.error }));
    continue;
  }
  if ("filter" in d) {
    lines.push(JSON.stringify({ path, error: "a Sigma filter document" }));
    continue;
  }
  if ("correlation" in d) {
    lines.push(JSON.stringify({ path, error: "correlation rule" }));
    continue;
  }
  const det: Record<string, unknown> = {};
  for (const [k, v] of d.rule.detection.searches) det[k] = search(v);
  const names = [...d.rule.detection.searches.keys()];
  try {
    const leaf = (nm: string): Node => ({
      kind: "equals",
      field: { name: "", type: "keyword" },
      value: nm,
      cased: false,
    });
    const conds = d.rule.detection.conditions.map((c) => tree(evalCondition(parseCondition(c), names, leaf)));
    lines.push(JSON.stringify({ path, det, conds }));
  } catch (e) {
    lines.push(JSON.stringify({ path, error: (e as Error).message }));
  }
}
process.stdout.write(lines.join("\n") + "\n");
