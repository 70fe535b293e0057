/**
 * The streaming readers (src/events/stream.ts) and the mapping-limit check (src/events/limits.ts):
 * a JSON array split across any chunk boundary gives the same documents and lines as the whole-text
 * reader; a document nested 100,000 deep is refused by an iterative walk (no stack overflow).
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseDocs } from "../../src/events/docs-file.ts";
import { DEFAULT_LIMITS, limitProblem } from "../../src/events/limits.ts";
import { ArraySplitter, openEvents } from "../../src/events/stream.ts";

const tmp = mkdtempSync(path.join(tmpdir(), "outliers-stream-"));

describe("ArraySplitter", () => {
  const text =
    '[\n {"a": 1, "s": "x]},\\"{["},\n {\n  "b": [1, {"c": "}"}]\n },\n 7,\n {"broken": \n}\n, {"d": "\\u00e9"}\n]\n';
  test("every chunking gives parseDocs' documents and lines", () => {
    const whole = parseDocs(text, "auto").map((e) => [e.line, e.doc ?? "error"]);
    expect(whole.length).toBe(5);
    for (const size of [1, 2, 3, 7, 1000]) {
      const split = new ArraySplitter();
      const got: [number, unknown][] = [];
      const add = (v: { text: string; line: number }) => {
        let doc: unknown = "error";
        try {
          const p = JSON.parse(v.text);
          doc = typeof p === "object" && p !== null && !Array.isArray(p) ? p : "error";
        } catch {
          doc = "error";
        }
        got.push([v.line, doc]);
      };
      for (let i = 0; i < text.length; i += size) for (const v of split.feed(text.slice(i, i + size))) add(v);
      for (const v of split.end()) add(v);
      expect(got).toEqual(whole as [number, unknown][]);
    }
  });

  test("a JSON array file is read element by element with lines and errors", () => {
    const f = path.join(tmp, "array.json");
    writeFileSync(f, text);
    const opened = openEvents(f, "auto");
    expect(opened.format).toBe("json-array");
    const entries = [...opened.entries];
    expect(entries.map((e) => e.line)).toEqual([2, 3, 6, 7, 9]);
    expect(entries[2]!.error).toBe("not a JSON object");
    expect(entries[3]!.error).toBeString();
    expect(entries[4]!.doc).toEqual({ d: "é" });
  });
});

describe("limitProblem", () => {
  const nest = (d: number) => {
    let v: unknown = 1;
    for (let i = 0; i < d; i++) v = { a: v };
    return v;
  };
  test("depth as Elasticsearch counts it: a field 20 names deep fits 20, 21 does not", () => {
    expect(limitProblem(nest(20))).toBeUndefined();
    expect(limitProblem(nest(21))).toContain("index.mapping.depth.limit 20");
    // Dotted keys count by their parts; an empty object is one deeper than its path.
    expect(limitProblem({ [Array(20).fill("a").join(".")]: 1 })).toBeUndefined();
    expect(limitProblem({ [Array(21).fill("a").join(".")]: 1 })).toContain("21 deep");
    expect(limitProblem({ [Array(20).fill("a").join(".")]: {} })).toContain("21 deep");
    // Arrays add no depth, up to 10 levels of arrays.
    expect(limitProblem({ a: [[[{ b: 1 }]]] })).toBeUndefined();
  });
  test("100,000 levels of objects or arrays: refused without recursion", () => {
    expect(limitProblem(nest(100_000))).toContain("nested deeper than index.mapping.depth.limit 20");
    let arr: unknown = [];
    for (let i = 0; i < 100_000; i++) arr = [arr];
    expect(limitProblem({ a: arr })).toContain("nested more than 30 levels (objects and arrays)");
  });
  test("total fields and field name length", () => {
    const wide: Record<string, number> = {};
    for (let i = 0; i < 1001; i++) wide[`f${i}`] = i;
    expect(limitProblem(wide)).toContain("1001 distinct fields; index.mapping.total_fields.limit is 1000");
    expect(limitProblem({ x: [wide, wide].slice(0, 1) })).toContain("1002 distinct fields");
    expect(limitProblem({ abcdef: 1 }, { ...DEFAULT_LIMITS, fieldNameLength: 5 })).toContain(
      "field_name_length.limit is 5",
    );
  });
});
