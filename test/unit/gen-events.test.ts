import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { generate, loadHitRules, type GenOptions } from "../../scripts/gen-events.ts";
import { rng } from "../helpers/gen-events.ts";

const since = new Date("2025-01-01T00:00:00Z");
const until = new Date("2025-01-02T00:00:00Z");
const base: GenOptions = { count: 3000, seed: "t", since, until, hitRate: 0, rules: [] };
const text = (o: GenOptions) => [...generate(o)].map((g) => JSON.stringify(g.doc)).join("\n");

const dir = mkdtempSync(path.join(tmpdir(), "gen-events-rules-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("gen-events", () => {
  test("same seed, same bytes; another seed, other bytes", () => {
    const a = text(base);
    expect(text(base)).toBe(a);
    expect(text({ ...base, seed: "u" })).not.toBe(a);
    expect(rng(1)()).toBe(rng(1)());
    expect(rng("t")()).toBe(rng("t")());
    expect(rng("t")()).not.toBe(rng("u")());
  });

  test("every document has the contract's winlogbeat shape", () => {
    let last = 0;
    for (const { doc } of generate(base)) {
      const t = Date.parse(doc["@timestamp"]);
      expect(t).toBeGreaterThanOrEqual(since.getTime());
      expect(t).toBeLessThan(until.getTime());
      expect(t).toBeGreaterThanOrEqual(last);
      last = t;
      expect(String(doc.winlog.event_id)).toBe(doc.event.code);
      expect(typeof doc.event.code).toBe("string");
      expect(doc.winlog.provider_name).toBe(doc.event.provider);
      expect(doc.winlog.computer_name.length).toBeGreaterThan(0);
      expect(Number(doc.winlog.record_id)).toBeGreaterThan(0);
      expect(typeof doc.winlog.event_data).toBe("object");
      const expected: Record<string, string> = {
        "Microsoft-Windows-Sysmon/Operational": "Microsoft-Windows-Sysmon",
        Security: "Microsoft-Windows-Security-Auditing",
        "Microsoft-Windows-PowerShell/Operational": "Microsoft-Windows-PowerShell",
      };
      expect(expected[doc.winlog.channel]).toBe(doc.winlog.provider_name);
    }
  });

  test("the mix of events and the untidiness of real data are there", () => {
    const docs = [...generate(base)].map((g) => g.doc);
    const ids = new Set(docs.map((d) => d.event.code));
    expect([...ids].sort()).toEqual(["1", "11", "12", "13", "14", "3", "4104", "4624", "4625", "4688", "7"]);
    const p4688 = docs.find((d) => d.event.code === "4688")!.winlog.event_data;
    expect(Object.keys(p4688)).toEqual(expect.arrayContaining(["NewProcessName", "ParentProcessName", "CommandLine"]));
    const values = docs.flatMap((d) => Object.values(d.winlog.event_data));
    expect(values.some((v) => Array.isArray(v))).toBe(true);
    expect(values.some((v) => v === "")).toBe(true);
    expect(values.some((v) => typeof v === "number")).toBe(true);
    expect(
      docs.some((d) => typeof d.winlog.event_id === "string") &&
        docs.some((d) => typeof d.winlog.event_id === "number"),
    ).toBe(true);
    expect(values.some((v) => typeof v === "string" && /[^\x00-\x7f]/.test(v))).toBe(true);
    expect(values.some((v) => typeof v === "string" && v.includes("\\WINDOWS\\system32\\"))).toBe(true);
    expect(docs.some((d) => Array.isArray(d.tags)) && docs.some((d) => typeof d.tags === "string")).toBe(true);
  });

  test("hits are built from the rules given, and listed", () => {
    writeFileSync(
      path.join(dir, "a.yml"),
      `title: Evil Image
id: 11111111-1111-1111-1111-111111111111
logsource: { category: process_creation, product: windows }
detection:
  selection_img:
    Image|endswith: '\\evil.exe'
  selection_cli:
    CommandLine|contains: 'sekurlsa::logonpasswords'
  filter:
    ParentImage: 'C:\\good.exe'
  condition: all of selection_* and not filter
`,
    );
    writeFileSync(
      path.join(dir, "b.yml"),
      `title: Failed logon of admin
id: 22222222-2222-2222-2222-222222222222
logsource: { service: security, product: windows }
detection:
  selection:
    EventID: 4625
    TargetUserName: 'Administrator'
  condition: selection
`,
    );
    writeFileSync(
      path.join(dir, "c.yml"),
      `title: Linux, not ours
logsource: { category: process_creation, product: linux }
detection: { selection: { Image: /bin/sh }, condition: selection }
`,
    );
    writeFileSync(path.join(dir, "d.yml"), "this: is: not yaml: [");
    const rules = loadHitRules(dir);
    expect(rules.map((r) => r.id)).toEqual([
      "11111111-1111-1111-1111-111111111111",
      "22222222-2222-2222-2222-222222222222",
    ]);
    const out = [...generate({ ...base, count: 400, rules, hitRate: 0.5 })];
    const hits = out.filter((g) => g.hit);
    expect(hits.length).toBeGreaterThan(100);
    const sources = new Set<string>();
    for (const { doc, hit } of hits) {
      const d = doc.winlog.event_data as Record<string, string>;
      expect(String(doc.winlog.event_id)).toBe(doc.event.code);
      if (hit!.id.startsWith("1")) {
        // process_creation as the profile maps it: Sysmon 1 or Security 4688, Image or NewProcessName.
        sources.add(doc.event.code);
        expect(["1", "4688"]).toContain(doc.event.code);
        expect(doc.winlog.channel).toBe(doc.event.code === "1" ? "Microsoft-Windows-Sysmon/Operational" : "Security");
        expect(
          [d.Image, d.NewProcessName].some((v) => typeof v === "string" && v.toLowerCase().endsWith("\\evil.exe")),
        ).toBe(true);
        expect(d.CommandLine!.toLowerCase()).toContain("sekurlsa::logonpasswords");
        expect(d.ParentImage ?? d.ParentProcessName).not.toBe("C:\\good.exe");
      } else {
        expect(doc.event.code).toBe("4625");
        expect(doc.winlog.channel).toBe("Security");
        expect(d.TargetUserName!.toLowerCase()).toBe("administrator");
      }
    }
    expect([...sources].sort()).toEqual(["1", "4688"]);
  });

  test("the command writes NDJSON, the same twice, and the hits file", () => {
    const root = path.resolve(import.meta.dir, "../..");
    const outs = ["a", "b"].map((n) => path.join(dir, `${n}.ndjson`));
    for (const out of outs) {
      const r = Bun.spawnSync([
        "bash",
        path.join(root, "scripts/gen-events"),
        "--count",
        "50",
        "--seed",
        "9",
        "--rules",
        dir,
        "--out",
        out,
        "--hits",
        `${out}.hits`,
        "--since",
        "2025-03-01T00:00:00Z",
        "--until",
        "2025-03-01T01:00:00Z",
      ]);
      expect(r.exitCode).toBe(0);
      expect(r.stderr.toString()).toContain("gen-events: 50 events");
    }
    const [a, b] = outs.map((o) => readFileSync(o, "utf8"));
    expect(a).toBe(b!);
    const lines = a!.trimEnd().split("\n");
    expect(lines).toHaveLength(50);
    for (const l of lines) expect(JSON.parse(l)["@timestamp"]).toStartWith("2025-03-01T00:");
    const bad = Bun.spawnSync(["bash", path.join(root, "scripts/gen-events"), "--count", "x"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.toString()).toContain("--count x: expected a whole number");
  });
});
