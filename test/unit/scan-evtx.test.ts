/**
 * `scan` on a native .evtx file (read record by record, src/local/events.ts) finds the same hits and
 * writes the same tags as on its JSON export. The .evtx is built from SigmaHQ's regression files in
 * ../shared (each file's chunks as they are, one after another: a multi-chunk file); the JSON file is
 * their exports, in the same order. Skipped when ../shared is absent.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Glob } from "bun";
import { readEvents } from "../../src/local/events.ts";
import { Scanner } from "../../src/local/scan.ts";
import { evtxFile, sourceChunks } from "../helpers/evtx-build.ts";
import { windowsRules } from "../helpers/windows-rules.ts";

const REGRESSION = path.resolve(import.meta.dir, "../../../shared/sigma/regression");
const haveShared = existsSync(REGRESSION);
if (!haveShared) console.warn(`skipping scan on .evtx: ${REGRESSION} is missing (fresh clone without ../shared)`);

/** The one export not written from its .evtx as the others were (see evtx-parser.test.ts). */
const EXPORT_DIFFERS = "proc_creation_win_susp_right_to_left_override/ad691d92-15f2-4181-9aa4-723c74f9ddc3.evtx";

describe("scan on a native .evtx file", () => {
  test.skipIf(!haveShared)(
    "same hits and tags as on its JSON export",
    () => {
      const sources = [...new Glob("**/*.evtx").scanSync({ cwd: REGRESSION })]
        .sort()
        .map((f) => path.join(REGRESSION, f))
        .filter((f) => !f.endsWith(EXPORT_DIFFERS) && existsSync(f.replace(/\.evtx$/, ".json")));
      expect(sources.length).toBeGreaterThan(80);
      const chunks = sources.flatMap((f) => sourceChunks(readFileSync(f)).map((c) => c.chunk));
      const tmp = mkdtempSync(path.join(tmpdir(), "outliers-scan-evtx-"));
      try {
        // Any name: the reader goes by the "ElfFile" magic.
        const evtx = path.join(tmp, "all-events.log");
        writeFileSync(evtx, evtxFile(chunks, 1_000_000));
        const json = path.join(tmp, "all-events.json");
        writeFileSync(json, sources.map((f) => readFileSync(f.replace(/\.evtx$/, ".json"), "utf8").trim()).join("\n"));

        const rules = windowsRules();
        const run = (file: string) => {
          const scanner = new Scanner(rules);
          const out = [...readEvents([file])].map((e) => {
            const r = scanner.scan(e);
            return { line: e.line, error: e.error, ruleIds: r.ruleIds, doc: r.doc };
          });
          return { out, counts: scanner.counts };
        };
        const fromEvtx = run(evtx);
        const fromJson = run(json);
        console.log(
          `scan .evtx (${chunks.length} chunks): ${fromEvtx.out.length} events, ${fromEvtx.counts.matched} tagged, ${fromEvtx.counts.pairs} hits`,
        );
        expect(fromEvtx.counts.unreadable).toEqual([]);
        expect(fromJson.counts.unreadable).toEqual([]);
        expect(fromEvtx.out.length).toBe(fromJson.out.length);
        // Record positions in the file, 1-based.
        expect(fromEvtx.out.map((e) => e.line)).toEqual(fromEvtx.out.map((_, k) => k + 1));
        expect(fromEvtx.out.map((e) => e.ruleIds)).toEqual(fromJson.out.map((e) => e.ruleIds));
        expect(fromEvtx.out.map((e) => e.doc)).toEqual(fromJson.out.map((e) => e.doc));
        expect(fromEvtx.counts.pairs).toBe(fromJson.counts.pairs);
        expect(fromEvtx.counts.perRule).toEqual(fromJson.counts.perRule);
        // Regression events are made to hit: most of them are tagged.
        expect(fromEvtx.counts.matched).toBeGreaterThan(fromEvtx.out.length / 2);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
