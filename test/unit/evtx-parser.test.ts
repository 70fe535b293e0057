/**
 * The native .evtx reader (src/events/evtx/) against the exports beside every regression .evtx
 * (evtx_dump's JSON layout, record for record, deep equality), on full chunks built from those files
 * (templates and names referred back to, as in real logs), against Python's `evtx` package when it is
 * installed (test-only oracle), and on truncated and corrupt files: each problem is reported with the
 * file, the chunk and the offset, and every other record still comes out.
 */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Glob } from "bun";
import { evtxEntries, evtxFileEntries, readEvtxFile, type EvtxEntry } from "../../src/events/evtx/index.ts";
import { crc32, tableCrc32 } from "../../src/events/evtx/crc32.ts";
import { filetime, systemtime } from "../../src/events/evtx/values.ts";
import { readDocsFile } from "../../src/events/docs-file.ts";
import { fullChunksFile, sourceChunks } from "../helpers/evtx-build.ts";

const REGRESSION = path.resolve(import.meta.dir, "../../../shared/sigma/regression");
const haveShared = existsSync(REGRESSION);
if (!haveShared)
  console.warn(
    `skipping .evtx parser tests on the regression files: ${REGRESSION} is missing (fresh clone without ../shared)`,
  );

function evtxFiles(): string[] {
  return [...new Glob("**/*.evtx").scanSync({ cwd: REGRESSION })].sort().map((f) => path.join(REGRESSION, f));
}

/** The export's records, parsed independently of our splitter: each starts with `{` in column 0. */
function exportRecords(jsonFile: string): any[] {
  return readFileSync(jsonFile, "utf8")
    .split(/\n(?=\{)/)
    .filter((c) => c.trim())
    .map((c) => JSON.parse(c));
}

/** Paths where two JSON values differ. */
function differences(a: any, b: any, at = ""): string[] {
  if (a === b) return [];
  if (
    typeof a !== "object" ||
    typeof b !== "object" ||
    a === null ||
    b === null ||
    Array.isArray(a) !== Array.isArray(b)
  )
    return [at];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => differences(a[k], b[k], `${at}.${k}`));
}

/**
 * The one export that was not written from its .evtx as the others were: its time has nine fraction
 * digits (every other export has six) and its ParentCommandLine differs in case from the bytes of the
 * .evtx ("Explorer.EXE" in the file, as Python's evtx also reads it). Everything else in it must match.
 */
const EXPORT_DIFFERS: Record<string, string[]> = {
  "rules/windows/process_creation/proc_creation_win_susp_right_to_left_override/ad691d92-15f2-4181-9aa4-723c74f9ddc3.evtx#0":
    [".Event.System.TimeCreated.#attributes.SystemTime", ".Event.EventData.ParentCommandLine"],
};

function records(entries: EvtxEntry[]): any[] {
  return entries.filter((e) => e.record).map((e) => e.record);
}

function errors(entries: EvtxEntry[]): string[] {
  return entries.filter((e) => e.error !== undefined).map((e) => e.error!);
}

describe("the .evtx reader on the regression files", () => {
  test.skipIf(!haveShared)("every record of every .evtx equals its JSON export (evtx_dump's layout)", () => {
    const files = evtxFiles();
    expect(files.length).toBe(92);
    let compared = 0;
    const unexpected: string[] = [];
    for (const f of files) {
      const entries = [...evtxEntries(readFileSync(f), f)];
      expect(errors(entries)).toEqual([]);
      const got = records(entries);
      const want = exportRecords(f.replace(/\.evtx$/, ".json"));
      expect(got.length).toBe(want.length);
      got.forEach((g, k) => {
        const id = `${path.relative(REGRESSION, f)}#${k}`;
        const diff = differences(g, want[k]);
        if (JSON.stringify(diff) !== JSON.stringify(EXPORT_DIFFERS[id] ?? []))
          unexpected.push(`${id}: ${diff.join(", ")}`);
        compared++;
      });
    }
    expect(unexpected).toEqual([]);
    expect(compared).toBe(108);
  });

  test.skipIf(!haveShared)(
    "the one export written differently differs only where listed, as the .evtx bytes say",
    () => {
      const f = path.join(REGRESSION, Object.keys(EXPORT_DIFFERS)[0]!.replace(/#0$/, ""));
      const [rec] = [...readEvtxFile(f)] as any[];
      expect(rec.Event.System.TimeCreated["#attributes"].SystemTime).toBe("2026-03-20T08:31:26.751156Z");
      expect(rec.Event.EventData.ParentCommandLine).toBe("C:\\Windows\\Explorer.EXE");
      const utf16 = Buffer.from("C:\\Windows\\Explorer.EXE", "utf16le");
      expect(readFileSync(f).includes(utf16)).toBe(true);
    },
  );

  test.skipIf(!haveShared)("readEvtxFile, evtxFileEntries (chunk by chunk) and evtxEntries (in memory) agree", () => {
    const f = evtxFiles().find((x) => exportRecords(x.replace(/\.evtx$/, ".json")).length > 3)!;
    const inMemory = records([...evtxEntries(readFileSync(f), f)]);
    expect(records([...evtxFileEntries(f)])).toEqual(inMemory);
    expect([...readEvtxFile(f)]).toEqual(inMemory);
  });

  test.skipIf(!haveShared)(
    "docs-file reads an .evtx by its magic (any name) into the same documents as its JSON export",
    () => {
      const tmp = mkdtempSync(path.join(tmpdir(), "outliers-evtx-"));
      try {
        for (const f of evtxFiles().slice(0, 20)) {
          const renamed = path.join(tmp, "events.log");
          writeFileSync(renamed, readFileSync(f));
          const fromEvtx = readDocsFile(renamed, "auto");
          const fromJson = readDocsFile(f.replace(/\.evtx$/, ".json"), "evtx-json");
          expect(fromEvtx.map((d) => d.error)).toEqual(fromEvtx.map(() => undefined));
          expect(fromEvtx.map((d) => d.line)).toEqual(fromJson.map((_, k) => k + 1));
          const id = `${path.relative(REGRESSION, f)}#0`;
          if (!EXPORT_DIFFERS[id]) expect(fromEvtx.map((d) => d.doc)).toEqual(fromJson.map((d) => d.doc));
        }
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  );
});

describe("full chunks built from the regression files", () => {
  const sources = haveShared ? evtxFiles().map((f) => readFileSync(f)) : [];
  const built = haveShared ? fullChunksFile(sources) : { bytes: new Uint8Array(), records: 0 };
  /** Each source chunk's records in order (fillChunk cycles through them). */
  const sourceRecords: any[][] = sources.flatMap((s) => {
    const entries = [...evtxEntries(s)];
    return sourceChunks(s).map((sc) => {
      const off = sc.chunk.byteOffset - s.byteOffset;
      return records(entries.filter((e) => e.offset >= off && e.offset < off + 65536));
    });
  });

  test.skipIf(!haveShared)("every record of the full chunks reads as the record it copies", () => {
    const entries = [...evtxEntries(built.bytes, "full.evtx")];
    expect(errors(entries)).toEqual([]);
    const got = records(entries);
    expect(got.length).toBe(built.records);
    expect(built.records).toBeGreaterThan(20 * sources.length);
    // Chunk by chunk: the k-th record of chunk c is the (k mod n)-th record of its source chunk.
    const byChunk = new Map<number, any[]>();
    for (const e of entries) {
      const c = Math.floor((e.offset - 4096) / 65536);
      if (!byChunk.has(c)) byChunk.set(c, []);
      byChunk.get(c)!.push(e.record);
    }
    expect(byChunk.size).toBe(sourceRecords.length);
    for (const [c, recs] of byChunk) {
      const src = sourceRecords[c]!;
      recs.forEach((r, k) => expect(r).toEqual(src[k % src.length]));
    }
  });

  const python = spawnSync("python3", ["-c", "import evtx"], { encoding: "utf8" });
  const havePython = python.status === 0;
  if (!havePython)
    console.warn(
      "skipping the Python evtx oracle check: `python3 -c 'import evtx'` failed (pip install evtx to run it)",
    );

  test.skipIf(!haveShared || !havePython)(
    "Python's evtx package reads the same records (strings compared trimmed: the exports trim text)",
    () => {
      const tmp = mkdtempSync(path.join(tmpdir(), "outliers-evtx-"));
      try {
        const file = path.join(tmp, "full.evtx");
        writeFileSync(file, built.bytes);
        const py = spawnSync(
          "python3",
          [
            "-c",
            "import evtx,sys\nfor r in evtx.PyEvtxParser(sys.argv[1]).records_json(): print(r['data'].replace('\\n', ''))",
            file,
          ],
          {
            encoding: "utf8",
            maxBuffer: 1 << 30,
          },
        );
        expect(py.status).toBe(0);
        const trim = (v: any): any =>
          typeof v === "string"
            ? v.trim()
            : Array.isArray(v)
              ? v.map(trim)
              : v && typeof v === "object"
                ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, trim(x)]))
                : v;
        const theirs = py.stdout
          .trim()
          .split("\n")
          .map((l) => trim(JSON.parse(l)));
        const ours = [...readEvtxFile(file)].map(trim);
        expect(ours.length).toBe(theirs.length);
        const differing = ours.map((o, k) => differences(o, theirs[k])).filter((d) => d.length > 0);
        expect(differing).toEqual([]);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
    60_000,
  );

  function corrupted(edit: (b: Uint8Array, dv: DataView) => Uint8Array | void): {
    entries: EvtxEntry[];
    bytes: Uint8Array;
  } {
    const b = new Uint8Array(built.bytes.subarray(0, 4096 + 4 * 65536));
    const dv = new DataView(b.buffer);
    const out = edit(b, dv) ?? b;
    return { entries: [...evtxEntries(out, "bad.evtx")], bytes: out };
  }

  /** Records of the first four chunks, unharmed. */
  function intact(): any[] {
    return records([...evtxEntries(built.bytes.subarray(0, 4096 + 4 * 65536), "ok.evtx")]);
  }

  function recordOffsets(b: Uint8Array, chunk: number): number[] {
    return [...evtxEntries(b.subarray(0, 4096 + (chunk + 1) * 65536))]
      .filter((e) => e.record && e.offset >= 4096 + chunk * 65536)
      .map((e) => e.offset);
  }

  test.skipIf(!haveShared)(
    "a file cut in the middle of a chunk: the error names the chunk, the records before the cut come out",
    () => {
      const all = intact();
      const offsets = recordOffsets(built.bytes, 2);
      const cut = offsets[5]! + 100; // inside the sixth record of chunk 2
      const { entries } = corrupted((b) => b.subarray(0, cut));
      const errs = errors(entries);
      expect(errs.length).toBeGreaterThanOrEqual(1);
      expect(errs[0]).toMatch(/^bad\.evtx: chunk 2 \(file offset 0x21000\), offset 0x21000: chunk truncated/);
      expect(errs.some((e) => e.includes(`offset 0x${offsets[5]!.toString(16)}`))).toBe(true);
      const got = records(entries);
      const before = all.length - recordOffsets(built.bytes, 3).length - (recordOffsets(built.bytes, 2).length - 5);
      expect(got).toEqual(all.slice(0, before));
    },
  );

  test.skipIf(!haveShared)(
    "a smashed record header: reported with its offset, the next records are found again",
    () => {
      const all = intact();
      const offsets = recordOffsets(built.bytes, 1);
      const { entries } = corrupted((b) => b.fill(0x41, offsets[3]!, offsets[3]! + 8));
      const errs = errors(entries);
      expect(errs).toContain(
        `bad.evtx: chunk 1 (file offset 0x11000), offset 0x11000: records checksum mismatch${errs[0]!.split("records checksum mismatch")[1]}`,
      );
      expect(
        errs.some((e) =>
          e.startsWith(
            `bad.evtx: chunk 1 (file offset 0x11000), offset 0x${offsets[3]!.toString(16)}: bad record magic 0x41414141; skipped to the next record at 0x${offsets[4]!.toString(16)}`,
          ),
        ),
      ).toBe(true);
      const got = records(entries);
      expect(got.length).toBe(all.length - 1);
      const lost = recordOffsets(built.bytes, 0).length + 3;
      expect(got).toEqual([...all.slice(0, lost), ...all.slice(lost + 1)]);
    },
  );

  test.skipIf(!haveShared)(
    "broken BinXML inside one record: that record fails with its id and offset, the others come out",
    () => {
      const all = intact();
      const offsets = recordOffsets(built.bytes, 3);
      // Replace the record's template-instance token (after the 24-byte header and the 4-byte fragment header).
      const { entries } = corrupted((b) => {
        expect(b[offsets[2]! + 28]).toBe(0x0c);
        b[offsets[2]! + 28] = 0x3f;
      });
      const failed = errors(entries).filter((e) => e.includes("unknown BinXML token 0x3f"));
      expect(failed.length).toBe(1);
      expect(failed[0]).toMatch(
        new RegExp(
          `^bad\\.evtx: chunk 3 \\(file offset 0x31000\\), offset 0x${offsets[2]!.toString(16)}, record \\d+: unknown BinXML token 0x3f at chunk offset 0x[0-9a-f]+$`,
        ),
      );
      expect(records(entries).length).toBe(all.length - 1);
    },
  );

  test.skipIf(!haveShared)(
    "a chunk whose header is garbage is skipped with an error; the chunks after it are read",
    () => {
      const all = intact();
      const { entries } = corrupted((b) => b.fill(0x58, 4096 + 65536, 4096 + 65536 + 16));
      expect(errors(entries)).toEqual([
        'bad.evtx: chunk 1 (file offset 0x11000), offset 0x11000: bad chunk magic (expected "ElfChnk"); chunk skipped',
      ]);
      const n0 = recordOffsets(built.bytes, 0).length;
      const n1 = recordOffsets(built.bytes, 1).length;
      expect(records(entries)).toEqual([...all.slice(0, n0), ...all.slice(n0 + n1)]);
    },
  );

  test.skipIf(!haveShared)("a damaged file header is reported; the chunks are still read", () => {
    const { entries } = corrupted((b) => {
      b[100] = 0xff;
    });
    expect(errors(entries)[0]).toMatch(
      /^bad\.evtx: file header checksum mismatch \(stored 0x[0-9a-f]+, computed 0x[0-9a-f]+\)$/,
    );
    expect(records(entries)).toEqual(intact());
  });

  test.skipIf(!haveShared)(
    "random damage anywhere: reading never throws, never hangs, every problem names the file",
    () => {
      const base = built.bytes.subarray(0, 4096 + 3 * 65536);
      let seed = 20261206;
      const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296;
      let recordsSeen = 0;
      let problems = 0;
      for (let it = 0; it < 60; it++) {
        const b = new Uint8Array(base);
        // A few bytes anywhere, or a burst near the chunk headers and first records.
        const n = 1 + Math.floor(rnd() * 30);
        for (let j = 0; j < n; j++)
          b[4096 + Math.floor(rnd() * 3 * 65536 * (rnd() < 0.3 ? 0.05 : 1))] = Math.floor(rnd() * 256);
        for (const e of evtxEntries(b, "fuzz.evtx")) {
          if (e.error !== undefined) {
            problems++;
            expect(e.error.startsWith("fuzz.evtx: ")).toBe(true);
            expect(/[\u0000-\u001f]/.test(e.error)).toBe(false);
          } else {
            recordsSeen++;
            expect(typeof JSON.stringify(e.record)).toBe("string");
          }
        }
      }
      expect(problems).toBeGreaterThan(60);
      expect(recordsSeen).toBeGreaterThan(1000);
    },
    60_000,
  );

  test.skipIf(!haveShared)(
    "docs-file turns problems into failed entries (file name not repeated) next to the good documents",
    () => {
      const tmp = mkdtempSync(path.join(tmpdir(), "outliers-evtx-"));
      try {
        const offsets = recordOffsets(built.bytes, 1);
        const b = new Uint8Array(built.bytes.subarray(0, 4096 + 2 * 65536));
        b.fill(0, offsets[1]!, offsets[1]! + 4);
        const file = path.join(tmp, "bad.evtx");
        writeFileSync(file, b);
        const docs = readDocsFile(file, "auto");
        const bad = docs.filter((d) => d.error);
        expect(bad.map((d) => d.error!.split(":")[0])).toEqual([
          "chunk 1 (file offset 0x11000), offset 0x11000",
          "chunk 1 (file offset 0x11000), offset 0x" + offsets[1]!.toString(16),
        ]);
        expect(docs.filter((d) => d.doc).length).toBe(recordOffsets(built.bytes, 0).length + offsets.length - 1);
        expect(docs.every((d) => d.doc === undefined || typeof (d.doc as any).winlog.event_id === "number")).toBe(true);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  );
});

describe("the .evtx reader's parts", () => {
  test("not an .evtx: a clear error naming the file", () => {
    expect(() => [...evtxEntries(Buffer.from('{"Event": {}}'), "x.json")]).toThrow(
      'x.json: not an .evtx file (no "ElfFile" magic at offset 0)',
    );
  });

  test("a file of only a short header: reported, no records", () => {
    const b = Buffer.alloc(200);
    b.write("ElfFile\0", 0, "latin1");
    const entries = [...evtxEntries(b, "short.evtx")];
    expect(records(entries)).toEqual([]);
    expect(errors(entries)).toContain("short.evtx: truncated file header (200 of 4096 bytes), no chunks");
  });

  test("CRC-32: Bun's and the table's agree, on the standard check value too", () => {
    expect(tableCrc32(Buffer.from("123456789"))).toBe(0xcbf43926);
    expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926);
    const data = new Uint8Array(70000).map((_, i) => (i * 7919) & 0xff);
    expect(crc32(data)).toBe(tableCrc32(data));
  });

  test("FILETIME keeps the ticks above 2^53 and prints six fraction digits; SYSTEMTIME likewise, null when invalid", () => {
    const ft = (ticks: bigint) => {
      const dv = new DataView(new ArrayBuffer(8));
      dv.setBigUint64(0, ticks, true);
      return filetime(dv, 0);
    };
    // 2025-11-28T07:59:01.3405539Z: 133 ... ticks since 1601, the last (100 ns) digit dropped.
    const unixMs = Date.UTC(2025, 10, 28, 7, 59, 1, 340);
    expect(ft(BigInt(unixMs) * 10000n + 5539n + 116444736000000000n)).toBe("2025-11-28T07:59:01.340553Z");
    expect(ft(116444736000000000n)).toBe("1970-01-01T00:00:00.000000Z");
    const st = (...f: number[]) => {
      const dv = new DataView(new ArrayBuffer(16));
      f.forEach((v, i) => dv.setUint16(2 * i, v, true));
      return systemtime(dv, 0);
    };
    expect(st(2024, 2, 4, 29, 23, 59, 58, 7)).toBe("2024-02-29T23:59:58.007000Z");
    expect(st(0, 0, 0, 0, 0, 0, 0, 0)).toBeNull();
    expect(st(2023, 2, 3, 30, 0, 0, 0, 0)).toBeNull();
  });
});
