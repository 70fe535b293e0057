/**
 * Sigma semantics end to end on the real Elasticsearch: each case is a Sigma detection compiled by
 * the front end (src/rules/sigma) with the winlogbeat profile, emitted as query DSL, and run over
 * one index created with the profile's `indexTemplate()`; the test asserts EXACTLY which documents
 * match. One case (at least) per modifier, condition form and escaping rule.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Rule } from "../../src/ir/types.ts";
import { ruleQuery } from "../../src/emit/dsl.ts";
import { loadProfile } from "../../src/mapping/index.ts";
import { compileSigmaText } from "../../src/rules/sigma/index.ts";
import { dropIndices, testIndex } from "../helpers/es.ts";
import { createIndexWithDocs, matchIds } from "../helpers/match.ts";

const profile = loadProfile("winlogbeat");
const b64 = (s: string, enc: BufferEncoding = "utf8") => Buffer.from(s, enc).toString("base64");
const utf16be = (s: string) => Buffer.from(s, "utf16le").swap16();
const ev = (data: Record<string, unknown>) => ({
  winlog: { channel: "Microsoft-Windows-Sysmon/Operational", event_id: 1, event_data: data },
});

const docs: Record<string, Record<string, unknown>> = {
  // plain values and modifiers
  c_foo: ev({ CommandLine: "run Foo.exe now" }),
  c_arr: ev({ CommandLine: ["nothing here", "x foo.exe"] }),
  c_start: ev({ CommandLine: "foo.exe first" }),
  // wildcards and escapes (Sigma spec)
  w_sys32: ev({ W1: "C:\\Windows\\System32\\cmd.exe" }),
  w_root: ev({ W1: "C:\\Windows\\cmd.exe" }),
  w_upper: ev({ W1: "c:\\windows\\x\\CMD.EXE" }),
  w_literal: ev({ W1: "C:\\Windows*\\cmd.exe" }),
  w_star: ev({ W2: "a*b" }),
  w_axb: ev({ W2: "axb" }),
  w_q: ev({ W3: "a?c" }),
  w_abc: ev({ W3: "abc" }),
  w_trail: ev({ W4: "C:\\temp\\" }),
  w_notrail: ev({ W4: "C:\\temp" }),
  w_bsany: ev({ W5: "x\\abc" }),
  w_bs: ev({ W5: "x\\" }),
  w_xstar: ev({ W5: "x*" }),
  // windash
  wd_hyphen: ev({ Wd: "ps -enc AAA" }),
  wd_slash: ev({ Wd: "ps /enc AAA" }),
  wd_en: ev({ Wd: "ps \u2013enc AAA" }),
  wd_em: ev({ Wd: "ps \u2014enc AAA" }),
  wd_bar: ev({ Wd: "ps \u2015enc AAA" }),
  wd_plus: ev({ Wd: "ps +enc AAA" }),
  // base64 / base64offset: "ping" at offsets 0, 1, 2 (mod 3)
  b_plain: ev({ B: b64("ping") }),
  b_off0: ev({ B: b64("ping 8.8.8.8") }),
  b_off1: ev({ B: b64("xping 8.8") }),
  b_off2: ev({ B: b64("xxping 8") }),
  b_pong: ev({ B: b64("pong 8.8.8.8") }),
  // UTF-16 variants of "cmd" inside base64
  u_le0: ev({ U: b64("cmd /c whoami", "utf16le") }),
  u_le1: ev({ U: b64("xcmd /c", "utf16le") }),
  u_le2: ev({ U: b64("xxcmd /c", "utf16le") }),
  u_be: ev({ U: utf16be("cmd /c whoami").toString("base64") }),
  u_bom: ev({
    U: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("cmd /c whoami", "utf16le")]).toString("base64"),
  }),
  u_ascii: ev({ U: b64("cmd /c whoami") }),
  // cidr (DestinationIp is an ip field with a keyword sub-field in the winlogbeat profile)
  ip_10: ev({ DestinationIp: "10.2.3.4" }),
  ip_11: ev({ DestinationIp: "11.0.0.1" }),
  ip_v6: ev({ DestinationIp: "2001:db8::5" }),
  ip_v6other: ev({ DestinationIp: "2001:db9::5" }),
  ip_dash: ev({ DestinationIp: "-" }),
  // null vs missing vs empty
  n_null: ev({ Nv: null }),
  n_empty: ev({ Nv: "" }),
  n_val: ev({ Nv: "x" }),
  // numbers stored as strings
  e_num: { winlog: { event_id: 4688 } },
  e_str: { winlog: { event_id: "4688" } },
  l_num: ev({ LogonType: 3 }),
  l_str: ev({ LogonType: "3" }),
  g_5: ev({ Ln: "5" }),
  g_15: ev({ Ln: "15" }),
  g_20: ev({ Ln: 20 }),
  g_abc: ev({ Ln: "abc" }),
  // cased
  k_Foo: ev({ Cs: "Foo" }),
  k_foo: ev({ Cs: "foo" }),
  // regex
  r_lower: ev({ R: "foo x bar" }),
  r_upper: ev({ R: "FOO x BAR" }),
  r_newline: ev({ R: "foo\nbar" }),
  // keyword list (no field)
  kw_hit: ev({ CommandLine: "invoke-mimikatz -dump" }),
  // conditions
  p1: ev({ C1: "a" }),
  p2: ev({ C2: "a" }),
  p3: ev({ C3: "a" }),
  p23: ev({ C2: "a", C3: "a" }),
  p123: ev({ C1: "a", C2: "a", C3: "a" }),
  // fieldref
  f_same: ev({ Tu: "bob", Su: "bob" }),
  f_case: ev({ Tu: "bob", Su: "BOB" }),
  f_diff: ev({ Tu: "bob", Su: "alice" }),
  // expand
  x_root: ev({ Ex: "root" }),
  x_admin: ev({ Ex: "admin" }),
  x_guest: ev({ Ex: "guest" }),
};
const ALL = Object.keys(docs).sort();

/**
 * The documents whose `field` contains one of the spec's base64offset variants of `value`:
 * for i in 0..2, base64(i filler bytes + value) without the first [0,2,3][i] characters and the
 * last [0,3,2][(len+i) % 3] (pySigma's definition), written here independently of src/rules.
 */
function offsetOracle(field: string, value: Buffer): string[] {
  const start = [0, 2, 3];
  const end = [0, 3, 2];
  const variants = [0, 1, 2].map((i) => {
    const enc = Buffer.concat([Buffer.alloc(i, 0x20), value]).toString("base64");
    const cut = end[(value.length + i) % 3]!;
    return enc.slice(start[i], cut ? enc.length - cut : undefined);
  });
  return ALL.filter((id) => {
    const v = (docs[id] as any).winlog?.event_data?.[field];
    return typeof v === "string" && variants.some((x) => v.includes(x));
  });
}
const except = (...ids: string[]) => ALL.filter((i) => !ids.includes(i));

/** [name, detection YAML (indented under `detection:`), expected ids] */
const cases: Array<[string, string, string[]]> = [
  [
    "contains (case-insensitive)",
    "sel:\n    CommandLine|contains: 'foo.exe'\n  condition: sel",
    ["c_arr", "c_foo", "c_start"],
  ],
  ["startswith", "sel:\n    CommandLine|startswith: 'FOO.EXE'\n  condition: sel", ["c_start"]],
  ["endswith", "sel:\n    CommandLine|endswith: ' now'\n  condition: sel", ["c_foo"]],
  ["array in the document: any element", "sel:\n    CommandLine: 'x foo.exe'\n  condition: sel", ["c_arr"]],
  [
    "value list is OR",
    "sel:\n    CommandLine|startswith:\n      - 'foo'\n      - 'run'\n  condition: sel",
    ["c_foo", "c_start"],
  ],
  ["|all is AND", "sel:\n    CommandLine|contains|all:\n      - 'run'\n      - 'now'\n  condition: sel", ["c_foo"]],
  [
    "\\* after a path is an escaped (literal) star",
    "sel:\n    W1: 'C:\\Windows\\*\\cmd.exe'\n  condition: sel",
    ["w_literal"],
  ],
  [
    "\\\\* is a backslash then a wildcard, inside a path",
    "sel:\n    W1: 'C:\\Windows\\\\*\\cmd.exe'\n  condition: sel",
    ["w_sys32", "w_upper"],
  ],
  [
    "wildcard inside a value",
    "sel:\n    W1: 'C:*cmd.exe'\n  condition: sel",
    ["w_literal", "w_root", "w_sys32", "w_upper"],
  ],
  ["escaped \\* is a literal star", "sel:\n    W2: 'a\\*b'\n  condition: sel", ["w_star"]],
  ["unescaped * is a wildcard", "sel:\n    W2: 'a*b'\n  condition: sel", ["w_axb", "w_star"]],
  ["escaped \\? is a literal question mark", "sel:\n    W3: 'a\\?c'\n  condition: sel", ["w_q"]],
  ["? is one character", "sel:\n    W3: 'a?c'\n  condition: sel", ["w_abc", "w_q"]],
  ["trailing backslash is literal", "sel:\n    W4: 'C:\\temp\\'\n  condition: sel", ["w_trail"]],
  ["\\\\* is a backslash then a wildcard", "sel:\n    W5: 'x\\\\*'\n  condition: sel", ["w_bs", "w_bsany"]],
  [
    "windash: - / en dash, em dash, horizontal bar",
    "sel:\n    Wd|windash|contains: ' -enc '\n  condition: sel",
    ["wd_bar", "wd_em", "wd_en", "wd_hyphen", "wd_slash"],
  ],
  ["base64 (whole value)", "sel:\n    B|base64: 'ping'\n  condition: sel", ["b_plain"]],
  [
    "base64offset|contains: all three alignments",
    "sel:\n    B|base64offset|contains: 'ping'\n  condition: sel",
    ["b_off0", "b_off1", "b_off2", "b_plain"],
  ],
  // Expected sets from an independent implementation of the spec's three offset variants (below):
  // a UTF-16LE "cmd" shifted by one byte shares its inner bytes with UTF-16BE, and the spec's
  // variants drop the partial characters at both ends, so some cross matches are correct.
  [
    "utf16le|base64offset|contains",
    "sel:\n    U|utf16le|base64offset|contains: 'cmd'\n  condition: sel",
    offsetOracle("U", Buffer.from("cmd", "utf16le")),
  ],
  [
    "wide|base64offset|contains (= utf16le)",
    "sel:\n    U|wide|base64offset|contains: 'cmd'\n  condition: sel",
    offsetOracle("U", Buffer.from("cmd", "utf16le")),
  ],
  [
    "utf16be|base64offset|contains",
    "sel:\n    U|utf16be|base64offset|contains: 'cmd'\n  condition: sel",
    offsetOracle("U", utf16be("cmd")),
  ],
  [
    "utf16 (BOM + LE)|base64offset|contains",
    "sel:\n    U|utf16|base64offset|contains: 'cmd'\n  condition: sel",
    offsetOracle("U", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("cmd", "utf16le")])),
  ],
  [
    "base64offset oracle agrees on ASCII",
    "sel:\n    B|base64offset|contains: 'ping'\n  condition: sel",
    offsetOracle("B", Buffer.from("ping")),
  ],
  ["cidr IPv4", "sel:\n    DestinationIp|cidr: '10.0.0.0/8'\n  condition: sel", ["ip_10"]],
  ["cidr IPv6", "sel:\n    DestinationIp|cidr: '2001:db8::/32'\n  condition: sel", ["ip_v6"]],
  [
    "startswith on an ip field (keyword text)",
    "sel:\n    DestinationIp|startswith: '2001:DB'\n  condition: sel",
    ["ip_v6", "ip_v6other"],
  ],
  ["equals on an ip field, malformed value", "sel:\n    DestinationIp: '-'\n  condition: sel", ["ip_dash"]],
  ["null: missing or null", "sel:\n    Nv: null\n  condition: sel", except("n_empty", "n_val")],
  ["empty string: only the empty value", "sel:\n    Nv: ''\n  condition: sel", ["n_empty"]],
  ["exists: true", "sel:\n    Nv|exists: true\n  condition: sel", ["n_empty", "n_val"]],
  ["exists: false", "sel:\n    Nv|exists: false\n  condition: sel", except("n_empty", "n_val")],
  ["not null", "sel:\n    Nv: null\n  condition: not sel", ["n_empty", "n_val"]],
  [
    "number on a long field, stored as number or string",
    "sel:\n    EventID: 4688\n  condition: sel",
    ["e_num", "e_str"],
  ],
  [
    "number on a keyword field, stored as number or string",
    "sel:\n    LogonType: 3\n  condition: sel",
    ["l_num", "l_str"],
  ],
  ["string '3' on a keyword field", "sel:\n    LogonType: '3'\n  condition: sel", ["l_num", "l_str"]],
  ["gt", "sel:\n    Ln|gt: 10\n  condition: sel", ["g_15", "g_20"]],
  ["gte", "sel:\n    Ln|gte: 15\n  condition: sel", ["g_15", "g_20"]],
  ["lt", "sel:\n    Ln|lt: 15\n  condition: sel", ["g_5"]],
  ["lte", "sel:\n    Ln|lte: 15\n  condition: sel", ["g_15", "g_5"]],
  ["cased", "sel:\n    Cs|cased: 'Foo'\n  condition: sel", ["k_Foo"]],
  ["not cased", "sel:\n    Cs: 'Foo'\n  condition: sel", ["k_Foo", "k_foo"]],
  ["re (case-sensitive, . does not match newline)", "sel:\n    R|re: 'foo.*bar'\n  condition: sel", ["r_lower"]],
  ["re|i", "sel:\n    R|re|i: 'foo.*bar'\n  condition: sel", ["r_lower", "r_upper"]],
  ["re|s", "sel:\n    R|re|s: 'foo.*bar'\n  condition: sel", ["r_lower", "r_newline"]],
  ["re anchors", "sel:\n    R|re: '^foo x'\n  condition: sel", ["r_lower"]],
  ["re without m: ^ is the start of the value only", "sel:\n    R|re: '^bar'\n  condition: sel", []],
  ["re|m: ^ after a newline (script query)", "sel:\n    R|re|m: '^bar'\n  condition: sel", ["r_newline"]],
  ["re|m: $ before a newline (script query)", "sel:\n    R|re|m: 'foo$'\n  condition: sel", ["r_newline"]],
  ["re word boundary (script query)", "sel:\n    R|re: '\\bbar\\b'\n  condition: sel", ["r_lower", "r_newline"]],
  ["keyword list (no field), with wildcards", "keywords:\n    - '*mimikatz*'\n  condition: keywords", ["kw_hit"]],
  [
    "keyword list (no field), whole value",
    "keywords:\n    - 'invoke-mimikatz -dump'\n    - 'not there'\n  condition: keywords",
    ["kw_hit"],
  ],
  [
    "keyword list (no field), found inside a value as a full-text search",
    "keywords:\n    - 'MIMIKATZ'\n  condition: keywords",
    ["kw_hit"],
  ],
  [
    "and binds tighter than or",
    "s1:\n    C1: a\n  s2:\n    C2: a\n  s3:\n    C3: a\n  condition: s1 or s2 and s3",
    ["p1", "p123", "p23"],
  ],
  [
    "parentheses",
    "s1:\n    C1: a\n  s2:\n    C2: a\n  s3:\n    C3: a\n  condition: (s1 or s2) and s3",
    ["p123", "p23"],
  ],
  ["1 of s*", "s1:\n    C1: a\n  s2:\n    C2: a\n  condition: 1 of s*", ["p1", "p123", "p2", "p23"]],
  ["all of s*", "s2:\n    C2: a\n  s3:\n    C3: a\n  condition: all of s*", ["p123", "p23"]],
  ["1 of them", "s1:\n    C1: a\n  s3:\n    C3: a\n  condition: 1 of them", ["p1", "p123", "p23", "p3"]],
  ["all of them", "s1:\n    C1: a\n  s3:\n    C3: a\n  condition: all of them", ["p123"]],
  ["not", "s1:\n    C2: a\n  condition: not s1", except("p2", "p23", "p123")],
  ["and not", "s2:\n    C2: a\n  s3:\n    C3: a\n  condition: s2 and not s3", ["p2"]],
  ["list of maps is OR", "sel:\n    - C1: a\n    - C3: a\n  condition: sel", ["p1", "p123", "p23", "p3"]],
  ["map is AND", "sel:\n    C2: a\n    C3: a\n  condition: sel", ["p123", "p23"]],
  ["fieldref (case-insensitive)", "sel:\n    Tu|fieldref: Su\n  condition: sel", ["f_case", "f_same"]],
  ["expand from placeholders", "sel:\n    Ex|expand: '%admins%'\n  condition: sel", ["x_admin", "x_root"]],
];

let index = "";
const compiled: Array<Rule | string> = [];

function compileCase(i: number, detection: string): Rule | string {
  const yaml = `title: case ${i}\nid: 00000000-0000-4000-8000-${String(i).padStart(12, "0")}\nlogsource:\n  product: windows\ndetection:\n  ${detection}\n`;
  const [r] = compileSigmaText(`case-${i}.yml`, yaml, { profile, placeholders: { admins: ["root", "Admin"] } });
  if (!r) return "no rule";
  return r.status === "ok" ? r.rule : `${r.status}: ${r.error}`;
}

beforeAll(async () => {
  index = testIndex("dsl-sigma");
  await createIndexWithDocs(index, profile.indexTemplate(), docs);
  cases.forEach(([, det], i) => compiled.push(compileCase(i, det)));
}, 120_000);
afterAll(async () => {
  await dropIndices(index);
});

describe("Sigma semantics through the DSL on Elasticsearch", () => {
  test("every case compiles and matches exactly the expected documents", async () => {
    const runnable = compiled.map((c) => (typeof c === "string" ? { match_none: {} } : ruleQuery(c)));
    const results = await matchIds(index, runnable);
    const wrong: string[] = [];
    cases.forEach(([name, det, want], i) => {
      const c = compiled[i]!;
      if (typeof c === "string") return void wrong.push(`${name}: did not compile: ${c}`);
      const got = results[i]!;
      const expected = [...want].sort();
      if ("error" in got) wrong.push(`${name}: ERROR ${got.error}`);
      else if (JSON.stringify(got) !== JSON.stringify(expected))
        wrong.push(
          `${name}: got ${JSON.stringify(got)} want ${JSON.stringify(expected)}\n  detection: ${det.replace(/\n/g, " ")}\n  query: ${JSON.stringify(runnable[i]).slice(0, 600)}`,
        );
    });
    expect(wrong).toEqual([]);
  }, 120_000);
});
