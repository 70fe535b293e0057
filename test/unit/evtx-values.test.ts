/**
 * Every BinXML value type and the JSON shapes the regression files do not hold, on records written by
 * test/helpers/binxml-write.ts: the expected JSON is spelled out here, and Python's `evtx` package
 * (test-only oracle, when installed) must read the same file the same way, except where we differ on
 * purpose (text trimmed as in the exports; an array value kept whole where evtx keeps its last element;
 * 64-bit integers beyond 2^53 as exact digits).
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { evtxEntries } from "../../src/events/evtx/index.ts";
import { ChunkWriter, le, type Content, type SubValue } from "../helpers/binxml-write.ts";
import { evtxFile } from "../helpers/evtx-build.ts";

const sid = new Uint8Array([
  1, 6, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 0x39, 0x30, 0, 0, 0xd2, 0x04, 0, 0, 0x10, 0x27, 0, 0, 0xe8, 0x03, 0, 0, 0xf4,
  0x01, 0, 0,
]);
const guid = new Uint8Array([
  0x5f, 0x38, 0x70, 0x57, 0x2a, 0xc2, 0xe0, 0x43, 0xbf, 0x4c, 0x06, 0xf5, 0x69, 0x8f, 0xfb, 0xd9,
]);
const GUID = "5770385F-C22A-43E0-BF4C-06F5698FFBD9";
const FT = 133900000001234567n; // 2025-04-24T20:26:40.1234567Z

/** Name, value, and what evtx_dump's JSON holds for it. */
const VALUES: [string, SubValue, unknown][] = [
  ["Str", { type: 0x01, bytes: le.utf16("  padded text \0") }, "padded text"],
  ["Ansi", { type: 0x02, bytes: le.ansi("caf\xe9\0") }, "café"],
  ["I8", { type: 0x03, bytes: le.i8(-5) }, -5],
  ["U8", { type: 0x04, bytes: le.u8(250) }, 250],
  ["I16", { type: 0x05, bytes: le.i16(-30000) }, -30000],
  ["U16", { type: 0x06, bytes: le.u16(60000) }, 60000],
  ["I32", { type: 0x07, bytes: le.i32(-2000000000) }, -2000000000],
  ["U32", { type: 0x08, bytes: le.u32(4000000000) }, 4000000000],
  ["I64", { type: 0x09, bytes: le.i64(-9007199254740991n) }, -9007199254740991],
  ["U64", { type: 0x0a, bytes: le.u64(123456789012n) }, 123456789012],
  ["U64Big", { type: 0x0a, bytes: le.u64(18446744073709551615n) }, "18446744073709551615"],
  ["I64Big", { type: 0x09, bytes: le.i64(-9223372036854775807n) }, "-9223372036854775807"],
  ["F32", { type: 0x0b, bytes: le.f32(0.1) }, "0.1"],
  ["F64", { type: 0x0c, bytes: le.f64(-2.5e-300) }, "-2.5e-300"],
  ["F64Big", { type: 0x0c, bytes: le.f64(1e16) }, "1e+16"],
  ["F64Whole", { type: 0x0c, bytes: le.f64(-2) }, "-2.0"],
  ["BoolT", { type: 0x0d, bytes: le.u32(1) }, true],
  ["BoolF", { type: 0x0d, bytes: le.u32(0) }, false],
  ["Bin", { type: 0x0e, bytes: new Uint8Array([0xde, 0xad, 0x00, 0x0f]) }, "DEAD000F"],
  ["Guid", { type: 0x0f, bytes: guid }, GUID],
  ["SizeT8", { type: 0x10, bytes: le.u64(0xfedcba9876n) }, "0xfedcba9876"],
  ["SizeT4", { type: 0x10, bytes: le.u32(0xbeef) }, "0xbeef"],
  ["FileTime", { type: 0x11, bytes: le.u64(FT) }, "2025-04-24T20:26:40.123456Z"],
  ["SysTime", { type: 0x12, bytes: le.u16(2024, 2, 4, 29, 23, 59, 58, 7) }, "2024-02-29T23:59:58.007000Z"],
  ["Sid", { type: 0x13, bytes: sid }, "S-1-5-21-12345-1234-10000-1000-500"],
  ["Hex32", { type: 0x14, bytes: le.u32(0x3b5cb2) }, "0x3b5cb2"],
  ["Hex64", { type: 0x15, bytes: le.u64(0x8000000000000000n) }, "0x8000000000000000"],
  ["StrArr", { type: 0x81, bytes: le.utf16("one\0two\0\0three\0") }, ["one", "two", "", "three"]],
  ["U16Arr", { type: 0x86, bytes: le.u16(1, 2, 65535) }, [1, 2, 65535]],
  ["U64Arr", { type: 0x8a, bytes: le.u64(1n, 2n) }, [1, 2]],
  ["GuidArr", { type: 0x8f, bytes: new Uint8Array([...guid, ...guid]) }, [GUID, GUID]],
  ["Hex32Arr", { type: 0x94, bytes: le.u32(255, 16) }, ["0xff", "0x10"]],
  [
    "SidArr",
    { type: 0x93, bytes: new Uint8Array([...sid, 1, 1, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0]) },
    ["S-1-5-21-12345-1234-10000-1000-500", "S-1-5-18"],
  ],
  [
    "FtArr",
    { type: 0x91, bytes: le.u64(FT, 116444736000000000n) },
    ["2025-04-24T20:26:40.123456Z", "1970-01-01T00:00:00.000000Z"],
  ],
  ["BoolArr", { type: 0x8d, bytes: le.u32(1, 0) }, [true, false]],
  ["F64Arr", { type: 0x8c, bytes: new Uint8Array(new Float64Array([1.5, -2]).buffer) }, ["1.5", "-2.0"]],
  ["EmptyStr", { type: 0x01, bytes: new Uint8Array() }, ""],
  ["NullOpt", { type: 0x00 }, ""],
  [
    "Nested",
    {
      type: 0x21,
      fragment: [
        { el: "Inner", attrs: [["A", [{ text: "x" }]]], children: [{ el: "Leaf", children: [{ text: "v" }] }] },
      ],
    },
    { Inner: { "#attributes": { A: "x" }, Leaf: "v" } },
  ],
];

const n = VALUES.length;
/** Record 1: every value type as named Data, and the System shapes. */
const TEMPLATE: Content[] = [
  {
    el: "Event",
    attrs: [["xmlns", [{ text: "http://schemas.microsoft.com/win/2004/08/events/event" }]]],
    children: [
      {
        el: "System",
        children: [
          {
            el: "Provider",
            attrs: [
              ["Name", [{ text: "Test-Provider" }]],
              ["Guid", [{ text: `{${GUID}}` }]],
            ],
          },
          {
            el: "EventID",
            attrs: [["Qualifiers", [{ sub: n + 1, type: 0x06, optional: true }]]],
            children: [{ sub: n, type: 0x06 }],
          },
          { el: "TimeCreated", attrs: [["SystemTime", [{ sub: n + 2, type: 0x11 }]]] },
          { el: "Correlation" },
          { el: "Header", children: [{ text: "first" }] },
          { el: "Header", children: [{ text: "second" }] },
          { el: "Header", children: [{ text: "third" }] },
          { el: "Mixed", children: [{ text: "a " }, { entity: "amp" }, { text: " b " }, { entity: "lt" }] },
          { el: "WithText", attrs: [["Kind", [{ text: "k" }]]], children: [{ text: "  body  " }] },
          { el: "TwoPartAttr", attrs: [["V", [{ text: "p-" }, { sub: n, type: 0x06 }]]] },
        ],
      },
      {
        el: "EventData",
        children: VALUES.map(([name, v], i) => ({
          el: "Data",
          attrs: [["Name", [{ text: name }]]],
          children: [{ sub: i, type: v.type, optional: true }],
        })),
      },
    ],
  },
];
const EXPECTED_1 = {
  Event: {
    "#attributes": { xmlns: "http://schemas.microsoft.com/win/2004/08/events/event" },
    System: {
      Provider: { "#attributes": { Name: "Test-Provider", Guid: `{${GUID}}` } },
      EventID: 4624,
      TimeCreated: { "#attributes": { SystemTime: "2025-04-24T20:26:40.123456Z" } },
      Correlation: null,
      Header: "first",
      Header_1: "second",
      Header_2: "third",
      Mixed: "a & b <",
      WithText: { "#attributes": { Kind: "k" }, "#text": "body" },
      TwoPartAttr: { "#attributes": { V: "p-4624" } },
    },
    EventData: Object.fromEntries(VALUES.map(([name, , want]) => [name, want])),
  },
};

/** Record 2: empty and null values, unnamed Data (arrays spread), repeated names under UserData, text then child. */
const TEMPLATE_2: Content[] = [
  {
    el: "Event",
    children: [
      {
        el: "System",
        children: [
          { el: "OptNull", children: [{ sub: 0, type: 0x01, optional: true }] },
          { el: "NormNull", children: [{ sub: 0, type: 0x01 }] },
          { el: "EmptyS", children: [{ sub: 1, type: 0x01 }] },
          { el: "AttrNull", attrs: [["A", [{ sub: 0, type: 0x01, optional: true }]]], children: [{ text: "t" }] },
          { el: "Z", children: [{ text: "p" }, { el: "Q", children: [{ text: "q" }] }] },
        ],
      },
      {
        el: "EventData",
        children: [
          { el: "Data", children: [{ text: "u1" }] },
          { el: "Data", children: [{ sub: 3, type: 0x06 }] },
          { el: "Data", children: [{ sub: 2, type: 0x81 }] },
        ],
      },
      {
        el: "UserData",
        children: [
          {
            el: "Rec",
            attrs: [["xmlns", [{ text: "ns" }]]],
            children: [
              { el: "Item", children: [{ text: "a" }] },
              { el: "Item", children: [{ text: "b" }] },
              { el: "X", attrs: [["a", [{ text: "1" }]]] },
              { el: "X", attrs: [["a", [{ text: "2" }]]] },
            ],
          },
        ],
      },
    ],
  },
];
const VALUES_2: SubValue[] = [
  { type: 0x00 },
  { type: 0x01, bytes: new Uint8Array() },
  { type: 0x81, bytes: le.utf16("x\0y\0") },
  { type: 0x06, bytes: le.u16(5) },
];
const EXPECTED_2 = {
  Event: {
    System: { OptNull: null, NormNull: null, EmptyS: null, AttrNull: "t", Z: { "#text": "p", Q: "q" } },
    EventData: { Data: { "#text": ["u1", 5, "x", "y"] } },
    UserData: {
      Rec: {
        "#attributes": { xmlns: "ns" },
        Item: "a",
        Item_1: "b",
        X: { "#attributes": { a: "1" } },
        X_1: { "#attributes": { a: "2" } },
      },
    },
  },
};

function typesFile(): Uint8Array {
  const w = new ChunkWriter();
  w.record(TEMPLATE, [
    ...VALUES.map(([, v]) => v),
    { type: 0x06, bytes: le.u16(4624) },
    { type: 0x00 },
    { type: 0x11, bytes: le.u64(FT) },
  ]);
  w.record(TEMPLATE_2, VALUES_2);
  return evtxFile([w.finish()], 3);
}

describe("value types and JSON shapes", () => {
  const entries = [...evtxEntries(typesFile(), "types.evtx")];

  test("every value type reads as evtx_dump writes it", () => {
    expect(entries.filter((e) => e.error)).toEqual([]);
    expect(entries[0]!.record).toEqual(EXPECTED_1);
  });

  test("empty and null values, unnamed Data, repeated names, text before a child element", () => {
    expect(entries[1]!.record).toEqual(EXPECTED_2);
  });

  test("character references and CDATA are text", () => {
    const w = new ChunkWriter();
    w.record(
      [{ el: "Event", children: [{ el: "A", children: [{ text: "x" }, { charRef: 0x41 }, { cdata: "<c>" }] }] }],
      [],
    );
    const [e] = [...evtxEntries(evtxFile([w.finish()], 2), "refs.evtx")];
    expect(e!.record).toEqual({ Event: { A: "xA<c>" } });
  });

  const python = spawnSync("python3", ["-c", "import evtx"], { encoding: "utf8" });
  if (python.status !== 0)
    console.warn(
      "skipping the Python evtx oracle check: `python3 -c 'import evtx'` failed (pip install evtx to run it)",
    );

  test.skipIf(python.status !== 0)(
    "Python's evtx reads the same (but for the trimming and whole arrays we choose)",
    () => {
      const tmp = mkdtempSync(path.join(tmpdir(), "outliers-evtx-"));
      try {
        const file = path.join(tmp, "types.evtx");
        writeFileSync(file, typesFile());
        const py = spawnSync(
          "python3",
          [
            "-c",
            "import evtx,sys\nfor r in evtx.PyEvtxParser(sys.argv[1]).records_json(): print(r['data'].replace('\\n', ''))",
            file,
          ],
          { encoding: "utf8" },
        );
        expect(py.stderr).toBe("");
        const theirs = py.stdout
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l));
        const trim = (v: any): any =>
          typeof v === "string"
            ? v.trim()
            : Array.isArray(v)
              ? v.map(trim)
              : v && typeof v === "object"
                ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, trim(x)]))
                : v;
        // evtx writes an array in named Data as repeated Data elements, of which the JSON keeps the last.
        const ours = entries.map((e) => structuredClone(e.record) as any);
        for (const [k, v] of Object.entries(ours[0].Event.EventData))
          if (Array.isArray(v)) ours[0].Event.EventData[k] = v[v.length - 1];
        // JSON.parse rounds Python's exact 64-bit numbers as JS numbers; ours are their exact digits.
        for (const k of ["U64Big", "I64Big"]) ours[0].Event.EventData[k] = Number(ours[0].Event.EventData[k]);
        expect(ours).toEqual(theirs.map(trim));
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  );
});
