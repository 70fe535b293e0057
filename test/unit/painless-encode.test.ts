/** The Painless emitter's TypeScript half: fixed source, params layout, index keys, tag metadata. */
import { describe, expect, test } from "bun:test";
import type { Node } from "../../src/ir/types.ts";
import { encodeRules as encode, type EncodeOptions } from "../../src/emit/painless/encode.ts";
import { gramHash, indexKeys as keysOf } from "../../src/emit/match-plan/index-keys.ts";
import { lowerNode } from "../../src/emit/match-plan/lower.ts";
import { OP } from "../../src/emit/painless/layout.ts";
import { summaryParts, techniquesOf } from "../../src/emit/match-plan/rule-meta.ts";
import { foldAscii } from "../../src/ir/semantics.ts";
import { ipBytes } from "../../src/ir/ip.ts";
import {
  buildPipeline,
  INGEST_SOURCE,
  TAG_SOURCE,
  UPDATE_SOURCE,
  updateScript,
} from "../../src/emit/painless/pipeline.ts";
import { WINDOWS_GUARD_COSTS } from "../../src/mapping/windows-profile.ts";
import { kw, long, rule } from "../helpers/rules.ts";
import type { Rule } from "../../src/ir/types.ts";

// The guard fields priced as the built-in profiles price them (Profile.guardCosts), as `compile` does.
const encodeRules = (rules: Rule[], opts: EncodeOptions = {}) =>
  encode(rules, { guardCosts: WINDOWS_GUARD_COSTS, ...opts });
const indexKeys = (n: Node) => keysOf(lowerNode(n), new Map(), WINDOWS_GUARD_COSTS);

const IMG = kw("winlog.event_data.Image");
const CH = kw("winlog.channel");
const EID = long("winlog.event_id");
const guard: Node = {
  kind: "and",
  children: [
    { kind: "equals", field: CH, value: "Security", cased: false },
    { kind: "number", field: EID, op: "eq", value: 4688 },
  ],
};

describe("fixed source", () => {
  test("stays under Elasticsearch's 65,535-byte script limit and holds no rule value", () => {
    for (const s of [INGEST_SOURCE, UPDATE_SOURCE, TAG_SOURCE]) expect(Buffer.byteLength(s)).toBeLessThan(65535);
    const r = rule("r1", { kind: "contains", field: IMG, value: "UniqueNeedle-42", cased: false });
    const built = buildPipeline([r]);
    const script = (built.processors.find((p: any) => p.script?.tag === "outliers-tagger") as any).script;
    expect(script.source).toBe(INGEST_SOURCE);
    expect(script.source).not.toContain("uniqueneedle-42");
    expect(JSON.stringify(script.params)).toContain("uniqueneedle-42");
    expect(updateScript([r]).source).toBe(UPDATE_SOURCE);
  });
});

describe("params", () => {
  test("case-insensitive values are folded (ASCII only), cased ones kept, caseless ones exact", () => {
    const { params } = encodeRules([
      rule("a", { kind: "equals", field: IMG, value: "C:\\É\\X.EXE", cased: false }),
      rule("b", { kind: "equals", field: IMG, value: "C:\\X.EXE", cased: true }),
      rule("c", { kind: "equals", field: IMG, value: "1234", cased: false }),
    ]);
    expect(params.r.map((r) => r[0])).toEqual([
      [OP.EQ, 0, 0, "c:\\É\\x.exe"],
      [OP.EQ, 0, 1, "C:\\X.EXE"],
      [OP.EQ, 0, 1, "1234"],
    ]);
    expect(foldAscii("ÀBc")).toBe("Àbc");
  });

  test("liveUnsupported rules and duplicate ids are skipped and listed", () => {
    const e = encodeRules([
      rule("a", { kind: "const", value: true }),
      rule("b", { kind: "const", value: true }, { liveUnsupported: "query-only construct" }),
      rule("a", { kind: "const", value: true }),
    ]);
    expect(e.rules.map((r) => r.id)).toEqual(["a"]);
    expect(e.skipped).toEqual([
      { id: "b", reason: "query-only construct" },
      { id: "a", reason: "duplicate rule id" },
    ]);
  });

  test("cidr and ip equality carry 16 bytes (IPv4 mapped) and a prefix length", () => {
    expect(ipBytes("10.1.2.3")).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 10, 1, 2, 3]);
    expect(ipBytes("fe80::1")).toEqual([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipBytes("::ffff:1.2.3.4").slice(10)).toEqual([255, 255, 1, 2, 3, 4]);
    const { params } = encodeRules([
      rule("n", { kind: "cidr", field: { name: "ip", type: "ip" }, cidr: "10.0.0.0/8" }),
    ]);
    expect(params.r[0]![0]).toEqual([OP.CIDR, 0, ipBytes("10.0.0.0"), 104]);
  });
});

describe("index keys", () => {
  test("an `endswith '\\x.exe'` rule is keyed by the base name, in preference to its guard", () => {
    const n: Node = {
      kind: "and",
      children: [
        guard,
        {
          kind: "or",
          children: [
            { kind: "suffix", field: IMG, value: "\\MSHTA.exe", cased: false },
            { kind: "equals", field: kw("winlog.event_data.OriginalFileName"), value: "MSHTA.EXE", cased: false },
          ],
        },
      ],
    };
    expect(indexKeys(n)!.map((k) => [k.field.name, k.mode, k.key])).toEqual([
      ["winlog.event_data.Image", 1, "mshta.exe"],
      ["winlog.event_data.OriginalFileName", 0, "mshta.exe"],
    ]);
  });

  test("rules with no required literal fall back to the guard, or to every event", () => {
    const onlyGuard: Node = {
      kind: "and",
      children: [guard, { kind: "contains", field: IMG, value: "x", cased: false }],
    };
    expect(indexKeys(onlyGuard)!.map((k) => [k.field.name, k.mode, k.key])).toEqual([["winlog.event_id", 2, "4688"]]);
    expect(indexKeys({ kind: "not", child: guard })).toBeNull();
    expect(
      indexKeys({
        kind: "or",
        children: [
          { kind: "exists", field: IMG, exists: true },
          { kind: "contains", field: IMG, value: "-encodedcommand", cased: false },
        ],
      }),
    ).toBeNull();
    const e = encodeRules([rule("x", { kind: "not", child: guard }), rule("y", onlyGuard)]);
    expect(e.params.a).toEqual([0]);
    expect(e.params.dk).toEqual([[e.params.f.findIndex((f) => f[0] === "winlog.event_id" && f[1] === 1), 2]]);
    expect({ ...e.params.dm[0] }).toEqual({ "4688": [1] });
  });

  test("a literal the value must contain keys the rule by its rarest gram, in preference to the guard", () => {
    const lits = ["\\windows\\system32\\a.exe", "\\windows\\system32\\b.exe", "-EncodedCommand"];
    const rules = lits.map((v, i) =>
      rule(`r${i}`, { kind: "and", children: [guard, { kind: "contains", field: IMG, value: v, cased: false }] }),
    );
    const e = encodeRules(rules);
    const d = e.params.dk.findIndex(([fi, mode]) => mode === 3 && e.params.f[fi]![0] === IMG.name);
    expect(d).toBeGreaterThanOrEqual(0);
    const keyOf = (ri: number) =>
      Object.entries(e.params.dm[d]!)
        .filter(([, rs]) => rs.includes(ri))
        .map(([k]) => k);
    // Grams shared by the system32 literals cost more: each of those rules is keyed by a gram of its own.
    expect(keyOf(0)).toHaveLength(1);
    expect(keyOf(0)[0]).toContain("a");
    expect(keyOf(1)[0]).toContain("b");
    expect("-encodedcommand").toContain(keyOf(2)[0]!);
    expect(e.params.dg[d]).toEqual([0, 1, 2]);
    expect(e.params.a).toEqual([]);
    // A wildcard keys by a gram of one of its literal segments; a cased literal by its folded gram.
    const w = indexKeys({
      kind: "wildcard",
      field: IMG,
      parts: [{ lit: "ab" }, { any: true }, { lit: "MIMIKATZ" }, { one: true }],
      cased: true,
    })!;
    expect(w).toHaveLength(1);
    expect(w[0]!.mode).toBe(3);
    expect("mimikatz").toContain(w[0]!.key);
    // Literals shorter than a gram: a rare symbol keys by itself; a short ASCII literal is common text.
    const emoji = indexKeys({
      kind: "and",
      children: [
        guard,
        {
          kind: "or",
          children: ["🦆", "★", "🦅"].map((v) => ({ kind: "contains", field: IMG, value: v, cased: false }) as Node),
        },
      ],
    })!;
    expect(emoji.map((k) => [k.mode, k.key])).toEqual([
      [3, "🦆"],
      [3, "★"],
      [3, "🦅"],
    ]);
    // No key holds half a surrogate pair (Elasticsearch cannot store such a string in a pipeline).
    const seq = indexKeys({ kind: "contains", field: IMG, value: "🤷🏼‍♂️", cased: false })!;
    expect(seq).toHaveLength(1);
    expect(seq[0]!.key).not.toMatch(/^[\udc00-\udfff]|[\ud800-\udbff]$/);
    // A sequence with no whole 4-unit gram (pair, joiner, pair) keys by a shorter one.
    expect(indexKeys({ kind: "contains", field: IMG, value: "🐕‍🦺", cased: false })!.map((k) => k.key)).toEqual(["🐕"]);
    const ascii = indexKeys({
      kind: "and",
      children: [guard, { kind: "contains", field: IMG, value: "x", cased: false }],
    })!;
    expect(ascii.map((k) => k.field.name)).toEqual(["winlog.event_id"]);
  });

  test("the gram filter holds every gram key under Java's String.hashCode, low 16 bits", () => {
    expect(gramHash("abcd")).toBe(2987074 & 0xffff); // "abcd".hashCode() in Java
    expect(gramHash("🦆")).toBe((0xd83e * 31 + 0xdd86) & 0xffff);
    const e = encodeRules([rule("g", { kind: "contains", field: IMG, value: "-EncodedCommand", cased: false })]);
    const d = e.params.dk.findIndex((dim) => dim[1] === 3);
    for (const k of Object.keys(e.params.dm[d]!)) {
      const h = gramHash(k);
      expect((e.params.gf.charCodeAt(h >> 3) >> (h & 7)) & 1).toBe(1);
    }
    expect(e.params.gf).toHaveLength(8192);
    expect([...e.params.gf].every((c) => c.charCodeAt(0) < 256)).toBe(true);
  });

  test("an OR of one string test on one field is one ANYSTR node; keyword searches one KEYWORD node by path", () => {
    const cmd = kw("winlog.event_data.CommandLine");
    const e = encodeRules([
      rule("a", {
        kind: "or",
        children: ["x", "Y", "z"].map((v) => ({ kind: "contains", field: cmd, value: v, cased: false }) as Node),
      }),
      rule("k", {
        kind: "or",
        children: ["ab", "cd"].map(
          (v) =>
            ({
              kind: "keyword",
              fields: [cmd, IMG],
              parts: [{ any: true }, { lit: v }, { any: true }],
              cased: false,
            }) as Node,
        ),
      }),
    ]);
    const fi = e.params.f.findIndex((f) => f[0] === cmd.name);
    expect(e.params.r[0]![0]).toEqual([OP.ANYSTR, OP.CONTAINS, fi, 0, ["x", "y", "z"]]);
    const k = e.params.r[1]![0] as [number, Record<string, unknown>];
    expect(k[0]).toBe(OP.KEYWORD);
    expect(Object.keys(k[1]).sort()).toEqual([IMG.name, cmd.name].sort());
    expect(k[1][cmd.name]).toEqual([OP.ANYSTR, OP.CONTAINS, fi, 0, ["ab", "cd"]]);
  });

  test("a subtree shared by several rules (the guard) is one memo slot", () => {
    const e = encodeRules([rule("x", { kind: "not", child: guard }), rule("y", guard)]);
    expect(e.params.mc).toBe(1);
    expect(e.params.r[0]![0]).toEqual([OP.NOT, [OP.MEMO, 0, expect.anything()]]);
    expect(e.params.r[1]![0]).toEqual([OP.MEMO, 0, expect.anything()]);
  });
});

describe("tag metadata", () => {
  test("summary placeholders split as ee-outliers finds them", () => {
    expect(summaryParts("Hit {a.b} on {c}!")).toEqual(["Hit ", "a.b", " on ", "c", "!"]);
    expect(summaryParts("no fields")).toEqual(["no fields"]);
  });

  test("technique ids from attack.tNNNN tags, upper-cased and unique", () => {
    const r = rule(
      "t",
      { kind: "const", value: true },
      { tags: ["attack.t1059.001", "attack.execution", "attack.T1059.001", "attack.t1140"] },
    );
    r.tagsOut.techniques = ["T1140"];
    expect(techniquesOf(r)).toEqual(["T1140", "T1059.001"]);
  });
});
