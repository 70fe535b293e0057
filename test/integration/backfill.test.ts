/**
 * Backfill and untag on the real node, through the CLI: exactness against live tagging,
 * idempotence, untag restoring `_source`, a killed run resuming, and writers racing the backfill.
 *
 * Size: OUTLIERS_BACKFILL_EVENTS generated events (default 3000) plus the regression captures.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { cluster, dropIndices, testIndex } from "../helpers/es.ts";
import {
  bulk,
  canonical,
  cli,
  cliArgs,
  createIndex,
  events,
  putPipeline,
  ROOT,
  ruleSet,
  sources,
  stateDir,
  tagFields,
  type Doc,
  PROFILE,
} from "../helpers/backfill-fixture.ts";
import { createHash } from "node:crypto";
import { loadRules } from "../../src/rules/load.ts";
import { updateScript } from "../../src/emit/painless/pipeline.ts";

const N = Number(process.env.OUTLIERS_BACKFILL_EVENTS ?? 3000);
const SHARDS = Number(process.env.OUTLIERS_TEST_SHARDS ?? 1);
const set = ruleSet();
const docs: Doc[] = events(set.rules, N);
const pipeline = testIndex("bf-pipe");
const live = testIndex("bf-live");
const created: string[] = [live];
let reference = new Map<string, any>();

/**
 * Waits until the backfill task recorded in `state` has processed some events (but not all), so
 * that what the test does next happens in the middle of the run. Returns the task's progress.
 */
async function midway(state: string, total: number): Promise<number> {
  const { client } = await cluster();
  const dir = path.join(state, "backfill");
  for (let i = 0; i < 3000; i++) {
    const files = (() => {
      try {
        return readdirSync(dir);
      } catch {
        return [];
      }
    })();
    if (files.length) {
      const { task } = JSON.parse(readFileSync(path.join(dir, files[0]!), "utf8"));
      const t: any = await client.tasks
        .get({ task_id: task, filter_path: ["completed", "task.status"] } as any)
        .catch(() => undefined);
      const st = t?.task?.status ?? {};
      const done = (st.updated ?? 0) + (st.noops ?? 0);
      if (t?.completed) throw new Error("the backfill finished before the test could interrupt it; throttle it more");
      if (done > 0 && done < total) return done;
    }
    await Bun.sleep(100);
  }
  throw new Error("the backfill task made no progress");
}

/** Backfills `index` with the rule set through the CLI, JSON output parsed. */
async function backfill(index: string, extra: string[] = [], env: Record<string, string> = {}) {
  const r = await cli(["backfill", ...set.paths, "--since", "30d", "--index", index, "--json", ...extra], {
    OUTLIERS_STATE_DIR: stateDir(),
    ...env,
  });
  if (r.code !== 0 && r.code !== 1) throw new Error(`backfill exited ${r.code}: ${r.stderr.slice(0, 2000)}`);
  return { ...r, json: JSON.parse(r.stdout) };
}

/** Asserts that every document of `index` carries exactly the tags live tagging gave it. */
function expectSameTags(actual: Map<string, any>, idOf: (id: string) => string = (id) => id) {
  let tagged = 0;
  const diffs: string[] = [];
  for (const [id, src] of actual) {
    const ref = reference.get(idOf(id));
    if (!ref) {
      diffs.push(`${id}: no reference event`);
      continue;
    }
    if (ref.outliers) tagged++;
    if (canonical(tagFields(src)) !== canonical(tagFields(ref)))
      diffs.push(`${id}: backfill ${canonical(tagFields(src))} vs live ${canonical(tagFields(ref))}`);
  }
  expect(diffs.slice(0, 5)).toEqual([]);
  expect(diffs.length).toBe(0);
  return tagged;
}

/** A fresh test index holding `events`, indexed without any pipeline; dropped after the run. */
async function loadedIndex(name: string, events: Doc[]): Promise<string> {
  const idx = testIndex(name);
  created.push(idx);
  await createIndex(idx);
  await bulk(idx, events);
  return idx;
}

beforeAll(async () => {
  await cluster();
  await putPipeline(pipeline, set.rules);
  await createIndex(live);
  await bulk(live, docs, pipeline);
  reference = await sources(live);
  const tagged = [...reference.values()].filter((s) => s.outliers).length;
  console.log(
    `backfill checks: ${set.rules.length} rules from ${set.origin}, ${docs.length} events, ${tagged} tagged live`,
  );
}, 600_000);

afterAll(async () => {
  await dropIndices(...created);
  const { client } = await cluster();
  await client.ingest.deletePipeline({ id: pipeline }).catch(() => {});
}, 120_000);

describe("backfill", () => {
  test("tags exactly the (event, rule) pairs and tag fields that live tagging gives, and a second run changes nothing", async () => {
    const plain = await loadedIndex("bf-plain", docs);

    const first = await backfill(plain);
    expect(first.json.failures).toEqual([]);
    const after = await sources(plain);
    const tagged = expectSameTags(after);
    expect(tagged).toBeGreaterThan(0);
    expect(first.json.tagged).toBe(tagged);
    const pairs = [...after.values()].reduce((a, s) => a + (s.outliers?.rule_id?.length ?? 0), 0);
    if (SHARDS > 1) {
      // Scale-out run: the shards sit on every node, and the update ran one slice per shard.
      const { client } = await cluster();
      const nodes: any[] = (await client.cat.nodes({ format: "json" } as any)) as any;
      const shards: any[] = (await client.cat.shards({ index: plain, format: "json" } as any)) as any;
      expect(new Set(shards.map((s) => s.node)).size).toBe(nodes.length);
      expect(first.json.slices).toBe(SHARDS);
    }
    console.log(
      `backfill: ${first.json.checked} checked, ${first.json.tagged} tagged (${pairs} pairs) in ${first.json.seconds}s`,
    );

    // Re-running writes nothing: every candidate already carries what it matches.
    const second = await backfill(plain);
    expect(second.json.failures).toEqual([]);
    expect(second.json.tagged).toBe(0);
    const again = await sources(plain);
    for (const [id, src] of after) expect(canonical(again.get(id))).toBe(canonical(src));
  });

  test("after live tagging, backfill adds nothing and no event holds a rule twice", async () => {
    const r = await backfill(live);
    expect(r.json.tagged).toBe(0);
    const now = await sources(live);
    for (const [id, src] of now) {
      const ids: string[] = src.outliers?.rule_id ?? [];
      expect(new Set(ids).size).toBe(ids.length);
      expect(src.outliers?.total_outliers ?? 0).toBe(ids.length);
      expect(canonical(src)).toBe(canonical(reference.get(id)));
    }
  });

  test("untag after backfill restores every event's _source (apart from key order)", async () => {
    const idx = await loadedIndex("bf-untag", docs);
    const before = await sources(idx);
    await backfill(idx);
    const mid = await sources(idx);
    const someRule = [...mid.values()].find((s) => s.outliers)?.outliers.rule_id[0] as string;
    expect(someRule).toBeString();

    // One rule first: only its entries go, the other rules' tags stay exactly as they were.
    const one = await cli(["untag", "--index", idx, "--rule", someRule, "--json"], { OUTLIERS_STATE_DIR: stateDir() });
    expect(one.code).toBe(0);
    const partial = await sources(idx);
    for (const [id, src] of partial) {
      const ids: string[] = src.outliers?.rule_id ?? [];
      expect(ids).not.toContain(someRule);
      const was: string[] = mid.get(id).outliers?.rule_id ?? [];
      expect(ids).toEqual(was.filter((x) => x !== someRule));
      if (ids.length) {
        expect(src.outliers.total_outliers).toBe(ids.length);
        // outliers.type keeps exactly the other rules' slices (the spans the provenance names)
        const spans: { r: string; k: string; p: number; n: number }[] = mid.get(id).outliers.added.entries;
        const types: string[] = mid.get(id).outliers.type;
        const gone = new Set<number>();
        for (const sp of spans)
          if (sp.k === "type" && sp.r === someRule) for (let i = 0; i < sp.n; i++) gone.add(sp.p + i);
        expect(src.outliers.type).toEqual(types.filter((_, i) => !gone.has(i)));
      }
    }

    const all = await cli(["untag", "--all", "--index", idx, "--json"], { OUTLIERS_STATE_DIR: stateDir() });
    expect(all.code).toBe(0);
    const after = await sources(idx);
    expect(after.size).toBe(before.size);
    for (const [id, src] of before) expect(canonical(after.get(id))).toBe(canonical(src));
  });

  test("a run killed with SIGKILL resumes where it stopped and ends as an uninterrupted run", async () => {
    const idx = await loadedIndex("bf-kill", docs);
    const state = stateDir();
    // Throttled so that the task is still running when the CLI dies.
    const args = cliArgs([
      "backfill",
      ...set.paths,
      "--since",
      "30d",
      "--index",
      idx,
      "--json",
      "--requests-per-second",
      "300",
      "--batch-size",
      "50",
      "--slices",
      "1",
    ]);
    const p = Bun.spawn(args, {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, OUTLIERS_STATE_DIR: state },
    });
    const progressed = await midway(state, docs.length);
    p.kill("SIGKILL");
    await p.exited;
    const mid = await sources(idx);
    const midTagged = [...mid.values()].filter((s) => s.outliers).length;
    // Killed in the middle: some events are tagged, not all.
    expect(progressed).toBeGreaterThan(0);
    expect(midTagged).toBeLessThan([...reference.values()].filter((s) => s.outliers).length);

    const resumed = await backfill(idx, ["--slices", "1"], { OUTLIERS_STATE_DIR: state });
    expect(resumed.json.failures).toEqual([]);
    const tagged = expectSameTags(await sources(idx));
    console.log(`kill -9: ${midTagged} tagged when killed, ${tagged} after resuming`);
    expect(tagged).toBeGreaterThan(0);
  });

  test("events written while a backfill runs are neither lost nor left untagged", async () => {
    const idx = testIndex("bf-race");
    created.push(idx);
    await createIndex(idx, { "index.default_pipeline": pipeline });
    // Old events arrive before the pipeline existed: bypass it.
    await bulk(idx, docs, "_none");
    const fresh = docs.slice(0, Math.min(500, docs.length)).map((d) => ({ id: `new-${d.id}`, source: d.source }));
    const rewritten = docs.slice(-Math.min(500, docs.length));
    const args = cliArgs([
      "backfill",
      ...set.paths,
      "--since",
      "30d",
      "--index",
      idx,
      "--json",
      "--requests-per-second",
      "300",
      "--batch-size",
      "50",
      "--slices",
      "1",
    ]);
    const state = stateDir();
    const p = Bun.spawn(args, {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
      env: { ...process.env, OUTLIERS_STATE_DIR: state },
    });
    await midway(state, docs.length);
    // New events go through the live pipeline; old ones are rewritten untagged under the backfill's
    // feet (version conflicts), as a re-shipping agent would.
    await bulk(idx, fresh);
    await bulk(idx, rewritten, "_none");
    const code = await p.exited;
    const out = JSON.parse(await new Response(p.stdout).text());
    expect(code).toBe(0);
    expect(out.failures).toEqual([]);
    const after = await sources(idx);
    expect(after.size).toBe(docs.length + fresh.length);
    expectSameTags(after, (id) => id.replace(/^new-/, ""));
    // The rewritten events come last in the scroll, after the task started: they conflicted, and
    // the conflicts were retried rather than skipped.
    expect(out.versionConflictsRetried).toBeGreaterThan(0);
    console.log(`race: ${out.versionConflictsRetried} version conflicts retried, ${out.tagged} tagged`);
  });
});

describe("backfill with the bundled rules", () => {
  const bundled = path.join(ROOT, "rules");
  const small = events(
    loadRules([bundled], { profile: PROFILE }).flatMap((r) => (r.status === "ok" ? [r.rule] : [])),
    1500,
    11,
  );
  const pipe = testIndex("bf-bundled-pipe");
  const ref = testIndex("bf-bundled-live");
  let refSources = new Map<string, any>();

  beforeAll(async () => {
    const rules = loadRules([bundled], { profile: PROFILE }).flatMap((r) => (r.status === "ok" ? [r.rule] : []));
    await putPipeline(pipe, rules);
    await createIndex(ref);
    created.push(ref);
    await bulk(ref, small, pipe);
    refSources = await sources(ref);
  }, 300_000);

  afterAll(async () => {
    const { client } = await cluster();
    await client.ingest.deletePipeline({ id: pipe }).catch(() => {});
  });

  test("the update runs the fixed matcher as a content-addressed stored script; rule values stay in params", async () => {
    const { client } = await cluster();
    const { source } = updateScript([]);
    const id = `outliers-${createHash("sha256").update(`painless\n${source}`).digest("hex").slice(0, 16)}`;
    await client.deleteScript({ id }).catch(() => {});
    const idx = await loadedIndex("bf-stored", small);
    const run = await cli(["backfill", bundled, "--since", "30d", "--index", idx, "--json"], {
      OUTLIERS_STATE_DIR: stateDir(),
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).tagged).toBeGreaterThan(0);
    const stored: any = await client.getScript({ id });
    expect(stored.script.source).toBe(source);
    // The bundled MSHTA rule's values are nowhere in the stored source.
    expect(stored.script.source.toLowerCase()).not.toContain("mshta");
  });

  test("--dry-run counts exactly the tags a run then writes, and writes nothing itself", async () => {
    const idx = await loadedIndex("bf-dry", small);
    const before = await sources(idx);
    const dry = await cli(["backfill", bundled, "--since", "30d", "--index", idx, "--dry-run", "--json"], {
      OUTLIERS_STATE_DIR: stateDir(),
    });
    expect(dry.code).toBe(0);
    const counts = JSON.parse(dry.stdout);
    expect(counts.dryRun).toBe(true);
    const untouched = await sources(idx);
    for (const [id, src] of before) expect(canonical(untouched.get(id))).toBe(canonical(src));

    const run = await cli(["backfill", bundled, "--since", "30d", "--index", idx, "--json"], {
      OUTLIERS_STATE_DIR: stateDir(),
    });
    expect(run.code).toBe(0);
    const after = await sources(idx);
    const perRule = new Map<string, number>();
    for (const src of after.values())
      for (const r of src.outliers?.rule_id ?? []) perRule.set(r, (perRule.get(r) ?? 0) + 1);
    expect([...perRule.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    for (const c of counts.rules)
      expect({ id: c.id, count: c.count }).toEqual({ id: c.id, count: perRule.get(c.id) ?? 0 });
  });

  test("every --prefilter (exact, terms, window, auto) tags the same as live tagging", async () => {
    for (const prefilter of ["exact", "terms", "window", "auto"]) {
      const idx = await loadedIndex(`bf-${prefilter}`, small);
      const r = await cli(["backfill", bundled, "--since", "30d", "--index", idx, "--prefilter", prefilter, "--json"], {
        OUTLIERS_STATE_DIR: stateDir(),
      });
      expect(r.code).toBe(0);
      // exact and auto (12 rules: exact) run the rules' own queries; terms and window a broad prefilter.
      const chosen = JSON.parse(r.stdout).prefilter;
      if (prefilter === "window")
        expect(chosen).toEqual([
          { index: [idx], kind: "window", windowEvents: small.length, unionEvents: small.length },
        ]);
      else if (prefilter === "terms") expect(["union", "window"]).toContain(chosen[0].kind);
      else expect(chosen).toEqual([]);
      const after = await sources(idx);
      let tagged = 0;
      for (const [id, src] of after) {
        if (src.outliers) tagged++;
        expect(canonical(tagFields(src))).toBe(canonical(tagFields(refSources.get(id))));
      }
      expect(tagged).toBeGreaterThan(0);
    }
  });
});
