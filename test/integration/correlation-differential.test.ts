/**
 * Sigma correlations, differential (docs/correlations.md): on one generated stream that hits the
 * edges, `scan`, `backfill` on the real node and the continuous `correlate --once` run in three steps
 * all tag exactly the events the brute-force reference (test/helpers/correlation-reference.ts) names,
 * for every correlation type, aliases and chains. Runs the compiled dist/outliers.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { runBin } from "../helpers/binary.ts";
import { cluster, dropIndices, ES_URL } from "../helpers/es.ts";
import { createIndex, sources } from "../helpers/backfill-fixture.ts";
import { DEFAULT_STATE_INDEX, stateKey } from "../../src/cluster/history/correlate-state.ts";
import {
  CORRELATIONS,
  correlationIds,
  reference,
  ruleYaml,
  stream,
  T0,
  toDoc,
  type RefEvent,
} from "../helpers/correlation-reference.ts";

const N = Number(process.env.OUTLIERS_CORRELATION_EVENTS ?? 400);
const engine = (process.env.OUTLIERS_TEST_ENGINE ?? "es").replace(/[^a-z0-9]/g, "");
const suffix = `${engine}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
const HIST = `corr-h-bf-${suffix}`;
const CONT = `corr-h-cont-${suffix}`;
const events: RefEvent[] = stream(N);
const expected = reference(events);
const dir = mkdtempSync(path.join(tmpdir(), "corr-h-"));
const state = mkdtempSync(path.join(tmpdir(), "corr-h-state-"));
const ENV = { OUTLIERS_STATE_DIR: state };
const SINCE = new Date(T0 - 3_600_000).toISOString();
const UNTIL = new Date(T0 + 24 * 3_600_000).toISOString();

function compare(actual: Map<string, string[]>): { wrong: string[]; tagged: number } {
  const wrong: string[] = [];
  let tagged = 0;
  for (const e of events) {
    const want = [...expected.get(e.id)!].sort();
    const got = actual.get(e.id) ?? [];
    tagged += got.length;
    if (JSON.stringify(want) !== JSON.stringify(got))
      wrong.push(`${e.id} ${new Date(e.t).toISOString()} ${e.base} user=${e.user}: want [${want}] got [${got}]`);
  }
  return { wrong, tagged };
}

async function bulk(index: string, evs: RefEvent[]): Promise<void> {
  const { client } = await cluster();
  const body: object[] = [];
  for (const e of evs) body.push({ index: { _index: index, _id: e.id } }, toDoc(e));
  if (body.length) {
    const res: any = await client.bulk({ body, refresh: true } as any);
    if (res.errors)
      throw new Error(`bulk into ${index}: ${JSON.stringify(res.items.find((i: any) => i.index?.error))}`);
  }
}

async function tagsOf(index: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const [id, src] of await sources(index)) out.set(id, correlationIds(src));
  return out;
}

beforeAll(async () => {
  const { base, correlations } = ruleYaml();
  mkdirSync(path.join(dir, "base"));
  writeFileSync(path.join(dir, "base", "base.yml"), base);
  writeFileSync(path.join(dir, "correlations.yml"), correlations);
  writeFileSync(path.join(dir, "events.ndjson"), events.map((e) => JSON.stringify(toDoc(e))).join("\n") + "\n");
  await createIndex(HIST);
  await createIndex(CONT);
});

afterAll(async () => {
  await dropIndices(HIST, CONT);
  // This test's progress document in the shared state index.
  const { client } = await cluster();
  const key = stateKey(
    CORRELATIONS.map((c) => c.id),
    [CONT],
  );
  await client.delete({ index: DEFAULT_STATE_INDEX, id: key } as any).catch(() => {});
});

describe("the reference itself", () => {
  test("the stream reaches every edge: every correlation fires somewhere and stays silent somewhere", () => {
    for (const c of CORRELATIONS) {
      const n = [...expected.values()].filter((s) => s.has(c.id)).length;
      expect({ id: c.id, fires: n > 0 }).toEqual({ id: c.id, fires: true });
      expect({ id: c.id, silent: n < events.length }).toEqual({ id: c.id, silent: true });
    }
    const byUser = (u: string) => events.filter((e) => e.user === u).map((e) => [...expected.get(e.id)!]);
    // Exactly at the threshold and timespan (closed window): fires; one ms outside: does not.
    expect(byUser("edge-in").every((s) => s.includes("c-ec"))).toBe(true);
    expect(byUser("edge-out").some((s) => s.includes("c-ec"))).toBe(false);
    // Equal timestamps: a window; fail then ok at one instant is in order.
    expect(byUser("same-time").some((s) => s.includes("c-tord"))).toBe(true);
    // Missing group-by field: never tagged.
    expect(
      events.filter((e) => e.user === undefined && e.base[0] === "fail").every((e) => !expected.get(e.id)!.has("c-ec")),
    ).toBe(true);
    // A group that fires twice, and the chain on it.
    expect(byUser("twice").filter((s) => s.includes("c-ec")).length).toBe(6);
    expect(byUser("twice").filter((s) => s.includes("c-chain")).length).toBe(8);
  });
});

describe(`correlations: scan, backfill and continuous equal the brute-force reference (${ES_URL})`, () => {
  test("compile --report lists the correlation rules as ok", async () => {
    const report = path.join(dir, "report.json");
    const r = await runBin(["compile", dir, "--report", report]);
    expect(r.stderr).toBe("");
    const rep = JSON.parse(await Bun.file(report).text());
    expect(rep.failed).toBe(0);
    expect(rep.ok).toBe(3 + CORRELATIONS.length);
  });

  test("scan", async () => {
    const r = await runBin(["scan", dir, "--events", path.join(dir, "events.ndjson"), "--json", "--all"]);
    expect(r.code).toBe(0);
    const actual = new Map<string, string[]>();
    for (const line of r.stdout.trim().split("\n")) {
      const d = JSON.parse(line);
      actual.set(d.ref, correlationIds(d));
    }
    const { wrong, tagged } = compare(actual);
    expect(wrong).toEqual([]);
    expect(tagged).toBeGreaterThan(0);
    // Split over worker threads (their documents held for the correlations): the same bytes.
    const many = await runBin([
      "scan",
      dir,
      "--events",
      path.join(dir, "events.ndjson"),
      "--json",
      "--all",
      "--workers",
      "2",
    ]);
    expect(many.code).toBe(0);
    expect(many.stdout).toBe(r.stdout);
    const summary = await runBin(["scan", dir, "--events", path.join(dir, "events.ndjson")]);
    const summaryMany = await runBin(["scan", dir, "--events", path.join(dir, "events.ndjson"), "--workers", "3"]);
    expect(summary.stdout).toContain("Correlation rules:");
    expect(summaryMany.stdout).toBe(summary.stdout);
  });

  test("scan writes the single-event layout with the group", async () => {
    const r = await runBin(["scan", dir, "--events", path.join(dir, "events.ndjson"), "--json"]);
    const docs = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const d = docs.find(
      (x) => x.ref && correlationIds(x).includes("c-ec") && x.winlog.event_data.TargetUserName === "edge-in",
    )!;
    const i = d.outliers.rule_id.indexOf("c-ec");
    expect(d.outliers.reason[i]).toBe("Sigma hit - Correlation c-ec");
    expect(d.outliers.correlation_group[i]).toBe("TargetUserName=edge-in");
    expect(d.outliers.type).toContain("attack.t1110");
    expect(d.threat.technique.id).toContain("T1110");
    expect(d.outliers.total_outliers).toBe(d.outliers.rule_id.length);
  });

  test("backfill", async () => {
    await bulk(HIST, events);
    const r = await runBin(
      ["backfill", dir, "--index", HIST, "--since", SINCE, "--until", UNTIL, "--json", "--node", ES_URL],
      ENV,
    );
    expect(r.stderr).not.toContain("failure");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.correlations.map((c: any) => c.id).sort()).toEqual(CORRELATIONS.map((c) => c.id).sort());
    const { wrong, tagged } = compare(await tagsOf(HIST));
    expect(wrong).toEqual([]);
    expect(tagged).toBeGreaterThan(0);
    // Once more: nothing new.
    const again = await runBin(
      ["backfill", dir, "--index", HIST, "--since", SINCE, "--until", UNTIL, "--json", "--node", ES_URL],
      ENV,
    );
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).correlations.reduce((a: number, c: any) => a + c.tagged, 0)).toBe(0);
  });

  test("continuous: three rounds as the stream arrives", async () => {
    const times = events.map((e) => e.t).sort((a, b) => a - b);
    const cuts = [times[Math.floor(times.length / 3)]!, times[Math.floor((2 * times.length) / 3)]!, Date.parse(UNTIL)];
    let from = Number.NEGATIVE_INFINITY;
    let previous = SINCE;
    for (const [step, cut] of cuts.entries()) {
      // The events of this step arrive (shuffled), the base rules tag them (as the live pipeline would).
      await bulk(
        CONT,
        events.filter((e) => e.t >= from && e.t < cut),
      );
      const base = await runBin(
        [
          "backfill",
          path.join(dir, "base"),
          "--index",
          CONT,
          "--since",
          SINCE,
          "--until",
          UNTIL,
          "--json",
          "--node",
          ES_URL,
        ],
        ENV,
      );
      expect(base.code).toBe(0);
      const r = await runBin(
        [
          "correlate",
          dir,
          "--once",
          "--lag",
          "0s",
          "--since",
          SINCE,
          "--until",
          new Date(cut).toISOString(),
          "--index",
          CONT,
          "--json",
          "--node",
          ES_URL,
        ],
        // Each round in a fresh local state directory (as on another machine): the progress is in the cluster.
        { OUTLIERS_STATE_DIR: mkdtempSync(path.join(tmpdir(), `corr-h-round${step}-`)) },
      );
      expect(r.stderr).not.toContain("failure");
      expect(r.code).toBe(0);
      // Round 1 starts at --since; the next ones where the last one stopped (lag 0).
      expect(JSON.parse(r.stdout).from).toBe(new Date(previous).toISOString());
      previous = new Date(cut).toISOString();
      from = cut;
    }
    const { wrong, tagged } = compare(await tagsOf(CONT));
    expect(wrong).toEqual([]);
    expect(tagged).toBeGreaterThan(0);
  });
});
