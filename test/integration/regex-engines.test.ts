/**
 * The regex engines on the REAL node: for every (pattern, string) pair — hand patterns and every
 * supported corpus regex, crossed with a few hundred generated strings — the query clause of
 * `regexQuery` (a Lucene `regexp` when cheap, the script query otherwise), the script query forced
 * for every pattern, the fixed Painless `reMatch` in an ingest `_simulate` (program in params), and
 * the JS VM give the same answer, which is JavaScript RegExp's wherever JS is a faithful oracle.
 * Expensive Lucene forms are never sent (they can keep a node busy for minutes).
 */
import { afterAll, describe, expect, test } from "bun:test";
import type { RegexValue } from "../../src/ir/types.ts";
import { toNfa, type Program } from "../../src/ir/regex/nfa.ts";
import { runProgram } from "../../src/emit/js/regex.ts";
import { REGEX_PAINLESS } from "../../src/shared-scripts/regex-source.ts";
import { regexQuery } from "../../src/emit/dsl-regex.ts";
import { cluster, dropIndices, testIndex } from "../helpers/es.ts";
import { HAND, HAVE_CORPUS, corpusRegexes, inputsFor, jsOracle } from "../helpers/regex.ts";

const index = testIndex("regex-engines");

/** The node is shared: a request refused by a circuit breaker (429) is retried after a pause. */
async function retry<T>(f: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await f();
    } catch (e: any) {
      if (attempt >= 4 || e?.meta?.statusCode !== 429) throw e;
      await Bun.sleep(5000 * attempt);
    }
  }
}
afterAll(() => dropIndices(index), 120_000);

/** Strings where our semantics knowingly differ from JS RegExp: compared across our engines only. */
const NON_ORACLE = [
  "a😀c",
  "😀",
  "x\r\ny",
  "a\rb",
  "\u2028",
  "ſ",
  "\u212a",
  "K\u212ak",
  "😀😀.exe",
  "ipconfig\r\n/all",
  "a\r",
];

interface Case {
  rx: RegexValue;
  prog: Program;
  routed: Record<string, unknown>;
  engine: "regexp" | "script";
  script: Record<string, unknown>;
}

function cases(): Case[] {
  const list: RegexValue[] = [...HAND];
  if (HAVE_CORPUS) list.push(...corpusRegexes().distinct.map((d) => d.regex));
  else console.warn("SKIP corpus regexes in regex-engines: ../shared/sigma not found (hand patterns only)");
  const out: Case[] = [];
  for (const rx of list) {
    const prog = toNfa(rx);
    const q = regexQuery("v", rx);
    const s = regexQuery("v", rx, { forceScript: true });
    if ("unsupported" in prog || "unsupported" in q || "unsupported" in s) continue;
    out.push({ rx, prog, routed: q.query, engine: q.engine, script: s.query });
  }
  return out;
}

/** Ids matched by each query, in small msearch batches. */
async function idsPerQuery(
  queries: Record<string, unknown>[],
  size: number,
): Promise<{ ids: Set<number>[]; errors: string[]; took: number[] }> {
  const { client } = await cluster();
  const ids: Set<number>[] = [];
  const errors: string[] = [];
  const took: number[] = [];
  for (let b = 0; b < queries.length; b += 20) {
    const batch = queries.slice(b, b + 20);
    const searches = batch.flatMap((query) => [
      { index },
      { size, _source: false, query: { bool: { filter: [query] } } },
    ]);
    const r: any = await retry(() => client.msearch({ searches } as any, { requestTimeout: 300_000 }));
    r.responses.forEach((resp: any, k: number) => {
      if (resp.error)
        errors.push(
          `${JSON.stringify(batch[k]).slice(0, 200)}: ${JSON.stringify(resp.error.root_cause?.[0]?.reason ?? resp.error).slice(0, 300)}`,
        );
      ids[b + k] = new Set((resp.hits?.hits ?? []).map((h: any) => Number(h._id)));
      took[b + k] = resp.took ?? 0;
    });
  }
  return { ids, errors, took };
}

describe("query clauses, Painless reMatch and the JS VM agree on the real node", () => {
  test("every (pattern, string) pair", async () => {
    const { client } = await cluster();
    const cs = cases();
    const strings = new Set<string>(NON_ORACLE);
    cs.forEach((c, i) => inputsFor(c.rx, 8, 7000 + i).forEach((s) => strings.add(s)));
    const docs = [...strings].filter((s) => s.length <= 8000);

    await client.indices.create({
      index,
      mappings: { properties: { v: { type: "keyword", ignore_above: 8191 } } },
    } as any);
    const body = docs.flatMap((v, i) => [{ index: { _index: index, _id: String(i) } }, { v }]);
    const bulk: any = await retry(() => client.bulk({ body, refresh: true } as any, { requestTimeout: 300_000 }));
    expect(bulk.errors).toBe(false);

    const routed = await idsPerQuery(
      cs.map((c) => c.routed),
      docs.length,
    );
    const scripted = await idsPerQuery(
      cs.map((c) => c.script),
      docs.length,
    );
    expect(routed.errors).toEqual([]);
    expect(scripted.errors).toEqual([]);

    // Painless at ingest: one script processor per pattern, its program in params; results in ctx.r.
    const source = `${REGEX_PAINLESS}\nctx.r.add(reMatch(params.p, ctx.v) ? 1 : 0);`;
    const processors = [
      { script: { source: "ctx.r = new ArrayList();" } },
      ...cs.map((c) => ({ script: { source, params: { p: c.prog } } })),
    ];
    const painless: number[][] = [];
    const failures: string[] = [];
    for (let b = 0; b < docs.length; b += 50) {
      const chunk = docs.slice(b, b + 50).map((v) => ({ _source: { v } }));
      const r: any = await retry(() =>
        client.ingest.simulate({ pipeline: { processors }, docs: chunk } as any, { requestTimeout: 300_000 }),
      );
      r.docs.forEach((d: any, k: number) => {
        if (d.error)
          failures.push(`${JSON.stringify(docs[b + k]).slice(0, 80)}: ${JSON.stringify(d.error).slice(0, 300)}`);
        painless[b + k] = d.doc?._source?.r ?? [];
      });
    }
    expect(failures).toEqual([]);

    const diffs: string[] = [];
    let pairs = 0;
    let matched = 0;
    let oracleChecked = 0;
    cs.forEach((c, i) => {
      const oracle = jsOracle(c.rx);
      docs.forEach((s, d) => {
        pairs++;
        const js = runProgram(c.prog, s);
        if (js) matched++;
        const what = `${JSON.stringify(c.rx)} on ${JSON.stringify(s)}`;
        if ((painless[d]![i] === 1) !== js) diffs.push(`ingest Painless ${!js} / VM ${js}: ${what}`);
        if (routed.ids[i]!.has(d) !== js) diffs.push(`${c.engine} query ${!js} / VM ${js}: ${what}`);
        if (scripted.ids[i]!.has(d) !== js) diffs.push(`script query ${!js} / VM ${js}: ${what}`);
        if (!NON_ORACLE.includes(s)) {
          oracleChecked++;
          if (oracle.test(s) !== js) diffs.push(`JS RegExp ${!js} / VM ${js}: ${what}`);
        }
      });
    });
    const viaRegexp = cs.filter((c) => c.engine === "regexp").length;
    const slowest = cs
      .map((c, i) => ({ c, ms: routed.took[i]! }))
      .filter((x) => x.c.engine === "regexp")
      .sort((x, y) => y.ms - x.ms)[0];
    if (slowest) console.log(`slowest regexp query: ${slowest.ms} ms for ${JSON.stringify(slowest.c.rx.pattern)}`);
    console.log(
      `regex engines: ${cs.length} patterns (${viaRegexp} via Lucene regexp, ${cs.length - viaRegexp} via script query) × ` +
        `${docs.length} strings = ${pairs} pairs, ${matched} matching, ${oracleChecked} also against JS RegExp; differences: ${diffs.length}`,
    );
    expect(diffs.slice(0, 20)).toEqual([]);
    expect(matched).toBeGreaterThan(1000);
  }, 900_000);
});

describe("the step budget on the real node", () => {
  test("Painless throws the VM's message on exactly the values where the VM throws", async () => {
    const { client } = await cluster();
    const p = toNfa(
      { pattern: "(a|aa|aaa)*b[0-9]{8,}c", flags: { i: false, m: false, s: false } },
      { stepLimit: 3000 },
    );
    if ("unsupported" in p) throw new Error(p.unsupported);
    const values = [
      "aab12345678c",
      "a".repeat(200) + "b12345678c",
      "a".repeat(600) + "bc",
      "a".repeat(2000) + "b",
      "x".repeat(5000) + "b123c",
    ];
    const expected = values.map((v) => {
      try {
        return String(runProgram(p, v));
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(expected.filter((x) => x.startsWith("regex: step budget 3000 exceeded")).length).toBeGreaterThanOrEqual(2);
    const source = `${REGEX_PAINLESS}\ntry { ctx.m = String.valueOf(reMatch(params.p, ctx.v)); } catch (IllegalArgumentException e) { ctx.m = e.getMessage(); }`;
    const r: any = await retry(() =>
      client.ingest.simulate({
        pipeline: { processors: [{ script: { source, params: { p } } }] },
        docs: values.map((v) => ({ _source: { v } })),
      } as any),
    );
    expect(r.docs.map((d: any) => d.doc?._source?.m ?? JSON.stringify(d.error))).toEqual(expected);
  }, 120_000);
});
