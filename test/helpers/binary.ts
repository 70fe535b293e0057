/**
 * The compiled binary (dist/outliers) for end-to-end tests: built when missing, run asynchronously (so
 * that servers of the test process keep answering), with the ES_* environment cleared unless given.
 */
import { existsSync } from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dir, "../..");
export const BIN = path.join(ROOT, "dist", process.platform === "win32" ? "outliers.exe" : "outliers");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function ensureBinary(): void {
  if (existsSync(BIN)) return;
  const build = Bun.spawnSync(["bash", path.join(ROOT, "scripts/build")], { cwd: ROOT, stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`scripts/build failed: ${build.stderr.toString()}`);
}

export async function runBin(args: string[], env: Record<string, string> = {}): Promise<Run> {
  ensureBinary();
  const p = Bun.spawn([BIN, ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ES_URL: "", ES_API_KEY: "", ES_PASSWORD: "", ES_USERNAME: "", ...env },
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}
