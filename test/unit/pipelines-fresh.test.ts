/** pipelines/outliers.json must be what `scripts/gen-pipelines` makes from rules/ now. */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dir, "../..");

describe("pipelines/", () => {
  test("outliers.json is the compiled pipeline of rules/ (run scripts/gen-pipelines when this fails)", () => {
    const run = Bun.spawnSync([process.execPath, "src/cli.ts", "compile", "rules", "--target", "pipeline"], {
      cwd: root,
    });
    expect(run.exitCode).toBe(0);
    const fresh = run.stdout.toString();
    const committed = readFileSync(path.join(root, "pipelines/outliers.json"), "utf8");
    const body = JSON.parse(committed);
    expect(
      body.processors.find((p: any) => p.script?.tag === "outliers-tagger").script.params.r.length,
    ).toBeGreaterThan(0);
    expect(committed === fresh).toBe(true);
  }, 60_000);
});
