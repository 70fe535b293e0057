import { describe, expect, test } from "bun:test";
import { IdMaker, valueAt } from "../../src/events/doc-ids.ts";
import { keyOrder, setAside } from "../../src/emit/js/set-aside.ts";

describe("document ids for ingest", () => {
  const run = (docs: Record<string, unknown>[], mode: ConstructorParameters<typeof IdMaker>[0] = { kind: "auto" }) => {
    const m = new IdMaker(mode);
    return docs.map((d) => m.next(d, JSON.stringify(d)));
  };
  test("auto: identical documents stay distinct, and a second run gives the same ids", () => {
    const docs = [{ a: 1 }, { a: 1 }, { b: 2 }];
    const first = run(docs);
    expect(new Set(first).size).toBe(3);
    expect(run(docs)).toEqual(first);
  });
  test("auto: a Windows event is keyed by channel, computer, record id and time, whatever else it holds", () => {
    const w = (extra: object) => ({
      "@timestamp": "t",
      winlog: { channel: "Security", computer_name: "dc1", record_id: 7, ...extra },
    });
    const [a] = run([w({ event_data: { X: "1" } })]);
    const [b] = run([w({ event_data: { X: "other export" } })]);
    expect(a).toBe(b as string);
    const [c] = run([{ ...w({}), "@timestamp": "t2" }]);
    expect(c).not.toBe(a as string);
    // .evtx read natively and its JSON export differ below the microsecond: one document.
    const at = (t: string) => run([{ ...w({}), "@timestamp": t }])[0];
    expect(at("2026-03-20T08:31:26.751156500Z")).toBe(at("2026-03-20T08:31:26.751156Z") as string);
    expect(at("2026-03-20T08:31:26.751157Z")).not.toBe(at("2026-03-20T08:31:26.751156Z") as string);
  });
  test("field and none", () => {
    expect(run([{ k: "x" }, { k: 5 }, { k: { o: 1 } }, {}], { kind: "field", field: "k" })).toEqual([
      "x",
      "5",
      { error: "--id-field k: the document has no string or number there" },
      { error: "--id-field k: the document has no string or number there" },
    ]);
    expect(run([{ a: 1 }], { kind: "none" })).toEqual([undefined]);
  });
  test("valueAt reads nested objects and literal dotted keys", () => {
    expect(valueAt({ winlog: { record_id: 3 } }, "winlog.record_id")).toBe(3);
    expect(valueAt({ "winlog.record_id": 4 }, "winlog.record_id")).toBe(4);
    expect(valueAt({ winlog: { "event_data.X": "y" } }, "winlog.event_data.X")).toBe("y");
    expect(valueAt({ a: 1 }, "a.b")).toBeUndefined();
  });
});

describe("setAside (the JavaScript twin of the set-aside processor)", () => {
  test("moves scalar outliers/threat/threat.technique and object tags, as strings", () => {
    const d: any = { outliers: 5, threat: { technique: "T1", x: 1 }, tags: { a: [1, "b"] }, other: 1 };
    expect(setAside(d)).toEqual(["outliers", "threat.technique", "tags"]);
    expect(d).toEqual({
      threat: { x: 1 },
      other: 1,
      outliers_original: { outliers: "5", threat_technique: "T1", tags: '{"a":[1,"b"]}' },
    });
  });
  test("leaves ee-outliers' own tags and plain tag lists alone", () => {
    const d: any = { outliers: { rule_id: ["r"] }, tags: ["outlier", "x"], threat: { technique: { id: ["T1"] } } };
    const before = structuredClone(d);
    expect(setAside(d)).toEqual([]);
    expect(d).toEqual(before);
  });
  test("objects and lists as Painless writes them: keys sorted, Java number texts, its escapes", () => {
    // The set-aside processor writes an object's keys sorted (String order), whatever map the engine
    // parsed the event into; test/integration/pipeline-equals-query.test.ts holds this twin to it.
    const d: any = {
      tags: { source: "edr", level: 3, seen: true, note: 'q"b\\c\u0001\b', r: 0.00001, h: 1e21, n: null },
    };
    setAside(d);
    expect(d.outliers_original.tags).toBe(
      '{"h":1.0E21,"level":3,"n":null,"note":"q\\"b\\\\c\\u0001\\u0008","r":1.0E-5,"seen":true,"source":"edr"}',
    );
    // UTF-16 code unit order, as Java's String.compareTo: capitals before small letters, é after z.
    expect(keyOrder(["source", "level", "seen", "é", "B", "a"])).toEqual(["B", "a", "level", "seen", "source", "é"]);
  });
  test("an outliers_original of the event's own that is not an object of strings goes whole under outliers_original.outliers_original, and the rest is moved beside it", () => {
    const d: any = { outliers: "x", outliers_original: "taken" };
    expect(setAside(d)).toEqual(["outliers_original", "outliers"]);
    expect(d).toEqual({ outliers_original: { outliers_original: "taken", outliers: "x" } });
    const e: any = { outliers_original: { tags: { a: 1 } }, tags: { b: 2 } };
    expect(setAside(e)).toEqual(["outliers_original", "tags"]);
    expect(e).toEqual({ outliers_original: { outliers_original: '{"tags":{"a":1}}', tags: '{"b":2}' } });
    // A key already taken is never overwritten.
    const f: any = { outliers_original: { tags: "mine" }, tags: [{ b: 2 }] };
    setAside(f);
    expect(f).toEqual({ outliers_original: { tags: "mine", tags_: '[{"b":2}]' } });
  });

  test("tag fields under outliers and threat.technique.id that our mappings refuse are moved; scalars stay", () => {
    const d: any = {
      outliers: {
        reason: { a: 1 },
        rule_id: [{ x: 1 }],
        total_outliers: "3",
        added: "forged",
        type: 5,
        summary: ["s"],
      },
      threat: { technique: { id: { x: "T1" } } },
      tags: 42,
    };
    expect(setAside(d)).toEqual([
      "outliers.rule_id",
      "outliers.reason",
      "outliers.total_outliers",
      "outliers.added",
      "threat.technique.id",
    ]);
    expect(d).toEqual({
      outliers: { type: 5, summary: ["s"] },
      threat: { technique: {} },
      tags: 42,
      outliers_original: {
        outliers_rule_id: '[{"x":1}]',
        outliers_reason: '{"a":1}',
        outliers_total_outliers: "3",
        outliers_added: "forged",
        threat_technique_id: '{"x":"T1"}',
      },
    });
  });
});
