/**
 * The layers of src/ (ARCHITECTURE.md): readers and the representation never reach an emitter or the
 * cluster, the no-cluster path never reaches the cluster, and the two matchers (Painless, JavaScript)
 * never import each other. Imports are read from the source text of every file under src/; a layer
 * that must stay clean is checked on its direct imports and on everything those reach in turn.
 * src/shared-scripts/ (the fixed Painless both an emitter and a reader need) sits below the emitters.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const SRC = path.resolve(import.meta.dir, "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

/** Module specifiers of `import … from`, `export … from`, bare `import "…"` and `import("…")`. */
export function importSpecifiers(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  const forms = [
    /\b(?:import|export)\s+(?:type\s+)?[^;'"]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const re of forms) for (const m of code.matchAll(re)) out.push(m[1]!);
  return out;
}

/** src-relative imports of each src file (`emit/dsl.ts` → [`ir/types.ts`, …]); packages are left out. */
const graph = new Map<string, string[]>();
for (const file of sourceFiles(SRC)) {
  const rel = path.relative(SRC, file);
  const deps = importSpecifiers(readFileSync(file, "utf8"))
    .filter((s) => s.startsWith("."))
    .map((s) => path.relative(SRC, path.resolve(path.dirname(file), s)));
  graph.set(rel, deps);
}

const under = (file: string, dir: string) => file === dir || file.startsWith(`${dir}/`);

/** Every src file `file` reaches through its imports, with the chain that reaches it. */
function reach(file: string): Map<string, string[]> {
  const seen = new Map<string, string[]>([[file, [file]]]);
  const queue = [file];
  while (queue.length) {
    const at = queue.shift()!;
    for (const dep of graph.get(at) ?? []) {
      if (seen.has(dep)) continue;
      seen.set(dep, [...seen.get(at)!, dep]);
      queue.push(dep);
    }
  }
  seen.delete(file);
  return seen;
}

/** Chains from a file of `from` to a file of `to`: direct imports, or all reached when `transitive`. */
function crossings(from: string, to: string[], transitive: boolean): string[] {
  const out: string[] = [];
  for (const [file, deps] of graph) {
    if (!under(file, from)) continue;
    if (transitive) {
      for (const [dep, chain] of reach(file)) {
        const into = (f: string) => to.some((d) => under(f, d));
        // the first step into a forbidden layer; what that file imports in turn is its own layer's business
        if (into(dep) && !chain.slice(0, -1).some(into)) out.push(chain.join(" → "));
      }
    } else {
      for (const dep of deps) if (to.some((d) => under(dep, d))) out.push(`${file} → ${dep}`);
    }
  }
  return out;
}

describe("layering of src/", () => {
  test("the import reader sees every form of import", () => {
    const text = [
      'import a from "./a.ts";',
      'import type { B } from "../b.ts";',
      'import {\n  c,\n  d,\n} from "./c.ts";',
      'export { e } from "./e.ts";',
      'import "./side.ts";',
      'const f = await import("./f.ts");',
      'import g from "./g.painless" with { type: "text" };',
      '// import h from "./commented.ts";',
    ].join("\n");
    expect(importSpecifiers(text)).toEqual([
      "./a.ts",
      "../b.ts",
      "./c.ts",
      "./e.ts",
      "./g.painless",
      "./side.ts",
      "./f.ts",
    ]);
  });

  test("the graph is read (a known import is there, so an empty graph cannot pass)", () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get("emit/dsl.ts")).toContain("ir/types.ts");
  });

  // shared-scripts/: the fixed Painless that an emitter and the ee-outliers reader both read
  for (const layer of ["rules", "ir", "mapping", "shared-scripts"]) {
    test(`nothing in ${layer}/ reaches emit/ or cluster/`, () => {
      expect(crossings(layer, ["emit", "cluster"], true)).toEqual([]);
    });
  }

  test("nothing in local/ reaches cluster/", () => {
    expect(crossings("local", ["cluster"], true)).toEqual([]);
  });

  test("emit/js and emit/painless do not import each other", () => {
    expect(crossings("emit/js", ["emit/painless"], false)).toEqual([]);
    expect(crossings("emit/painless", ["emit/js"], false)).toEqual([]);
  });
});
