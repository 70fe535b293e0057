/**
 * The compiled binary itself (dist/outliers, built here when missing): help, version, and `doctor`
 * against the real node and against every kind of wrong or unreachable cluster. Secrets given on the
 * command line must never appear in what the binary prints.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server as NetServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { ES_URL } from "../helpers/es.ts";

const ROOT = path.resolve(import.meta.dir, "../..");
const BIN = path.join(ROOT, "dist", process.platform === "win32" ? "outliers.exe" : "outliers");
const PASSWORD = "pw-Zq81-never-print";
const API_KEY = "QUtFWS1uZXZlci1wcmludC0xMjM0NQ==";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the binary asynchronously, so that servers of this process keep answering meanwhile. */
async function run(...args: string[]): Promise<Run> {
  const p = Bun.spawn([BIN, ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ES_URL: "", ES_API_KEY: "", ES_PASSWORD: "", ES_USERNAME: "" },
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}

/** Asserts the exit-3 shape: nothing on stdout, exactly one line on stderr, naming the URL. */
function expectOneClearLine(r: Run, url: string, cause: RegExp): void {
  expect(r.code).toBe(3);
  expect(r.stdout).toBe("");
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toStartWith("outliers: ");
  expect(lines[0]).toContain(url);
  expect(lines[0]).toMatch(cause);
}

function expectNoSecrets(r: Run): void {
  const all = r.stdout + r.stderr;
  for (const secret of [PASSWORD, API_KEY, Buffer.from(`elastic:${PASSWORD}`).toString("base64")])
    expect(all).not.toContain(secret);
}

const secrets = ["--username", "elastic", "--password", PASSWORD, "--api-key", API_KEY];

beforeAll(async () => {
  if (existsSync(BIN)) return;
  const build = Bun.spawnSync(["bash", path.join(ROOT, "scripts/build")], { cwd: ROOT, stderr: "pipe" });
  if (build.exitCode !== 0) throw new Error(`scripts/build failed: ${build.stderr.toString()}`);
}, 120_000);

describe("dist/outliers", () => {
  test("--help lists the commands and exits 0", async () => {
    const r = await run("--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: outliers");
    expect(r.stdout).toMatch(/^\s+doctor\b/m);
  });

  test("--version prints package.json's version", async () => {
    const r = await run("--version");
    expect(r).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
  });

  test("an unknown command is a usage error (exit 2)", async () => {
    const r = await run("no-such-command");
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
  });
});

describe("dist/outliers doctor against the real node", () => {
  test("reports the node ready, one line per check, exit 0", async () => {
    const r = await run("doctor", "--node", ES_URL);
    if (r.code !== 0) throw new Error(`doctor against ${ES_URL} exited ${r.code}:\n${r.stdout}${r.stderr}`);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual([
      "ok",
      "ok",
      "ok",
      "ok",
      "ok",
      "ok",
      "ok",
      "ok",
      "ok",
      "ready:",
    ]);
    // The engine by name and version, as GET / says (OpenSearch sets version.distribution).
    const root = (await (await fetch(ES_URL)).json()) as { version: { number: string; distribution?: string } };
    const product = root.version.distribution === "opensearch" ? "OpenSearch" : "Elasticsearch";
    expect(lines[0]).toMatch(new RegExp(`^ok\\s+version\\s+${product} ${root.version.number.replace(/\./g, "\\.")} `));
    expect(lines[1]).toMatch(/^ok\s+engine\s+client: /);
    expect(lines[3]).toMatch(/^ok\s+ingest nodes\s+\d+ of \d+ node\(s\) have the ingest role$/);
    expect(lines.at(-1)).toBe(`ready: ${ES_URL.replace(/\/$/, "")} can run outliers`);
    expect(r.stderr).toBe("");
  });

  test("--json prints one JSON object and nothing else", async () => {
    const r = await run("doctor", "--json", "--node", ES_URL);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ready).toBe(true);
    expect(report.checks.map((c: { name: string }) => c.name)).toEqual([
      "version",
      "engine",
      "health",
      "ingest nodes",
      "painless regex",
      "script limits",
      "painless pipeline",
      "privileges",
      "wired pipelines",
    ]);
    expect(report.checks.every((c: { status: string }) => c.status === "ok")).toBe(true);
    const info = (await (await fetch(ES_URL)).json()) as { version: { number: string } };
    expect(report.version).toBe(info.version.number);
    // What doctor says differs is what the node does: pipeline _meta is accepted or refused, data streams answer or not.
    const meta = await fetch(`${ES_URL}/_ingest/pipeline/outliers-doctor-meta-probe`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ description: "probe", _meta: { a: 1 }, processors: [] }),
    });
    if (meta.ok) await fetch(`${ES_URL}/_ingest/pipeline/outliers-doctor-meta-probe`, { method: "DELETE" });
    expect(report.engine.differences).toContain(
      meta.ok ? "pipeline _meta: yes" : "pipeline _meta: no (metadata kept as JSON in the pipeline description)",
    );
    const streams = (await fetch(`${ES_URL}/_data_stream`)).ok;
    expect(report.engine.differences.some((d: string) => d.startsWith(`data streams: ${streams ? "yes" : "no"}`))).toBe(
      true,
    );
    if (Number(info.version.number.split(".")[0]) < 8 || !(await securityOn()))
      expect(report.checks.find((c: { name: string }) => c.name === "privileges")).toEqual({
        name: "privileges",
        status: "ok",
        detail: "security disabled: all privileges available",
      });
  });
});

/** Whether the node under test has the security API answering (it has not on the 7.10 test engine). */
async function securityOn(): Promise<boolean> {
  const r = await fetch(new URL("/_security/_authenticate", ES_URL));
  return r.status === 200;
}

describe("dist/outliers doctor against unreachable or wrong clusters: one line, exit 3, no secrets", () => {
  const servers: Array<{ stop: (force?: boolean) => void }> = [];
  let hang: NetServer;
  let hangPort = 0;
  let certDir = "";

  beforeAll(async () => {
    hang = createServer(() => {}); // accepts connections, never answers
    await new Promise<void>((r) => hang.listen(0, "127.0.0.1", () => r()));
    hangPort = (hang.address() as { port: number }).port;
    certDir = mkdtempSync(path.join(tmpdir(), "outliers-cert-"));
  });
  afterAll(() => {
    for (const s of servers) s.stop(true);
    hang.close();
    rmSync(certDir, { recursive: true, force: true });
  });

  function serve(fetch: (req: Request) => Response, tls?: { cert: string; key: string }): string {
    const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch, ...(tls ? { tls } : {}) });
    servers.push(s);
    return `${tls ? "https" : "http"}://127.0.0.1:${s.port}`;
  }

  test("connection refused", async () => {
    const r = await run("--node", "http://127.0.0.1:1", "doctor");
    expectOneClearLine(r, "http://127.0.0.1:1", /connection refused/);
  });

  test("connection refused, with secrets on the command line", async () => {
    const r = await run("doctor", "--node", "http://127.0.0.1:1", ...secrets);
    expectOneClearLine(r, "http://127.0.0.1:1", /connection refused/);
    expectNoSecrets(r);
  });

  test("timeout", async () => {
    const url = `http://127.0.0.1:${hangPort}`;
    const r = await run("doctor", "--node", url, "--timeout", "1", ...secrets);
    expectOneClearLine(r, url, /timed out/);
    expectNoSecrets(r);
  });

  test("https against a plain-http port", async () => {
    const url = ES_URL.replace(/^http:/, "https:").replace(/\/$/, "");
    const r = await run("doctor", "--node", url, ...secrets);
    expectOneClearLine(r, url, /TLS handshake failed.*try http:\/\//);
    expectNoSecrets(r);
  });

  test("self-signed certificate: rejected, then accepted with --insecure", async () => {
    const key = path.join(certDir, "key.pem");
    const cert = path.join(certDir, "cert.pem");
    const gen = Bun.spawnSync(
      [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stderr: "pipe" },
    );
    if (gen.exitCode !== 0) throw new Error(`openssl could not make a test certificate: ${gen.stderr.toString()}`);
    const url = serve(() => new Response("<html>not a cluster</html>"), {
      cert: await Bun.file(cert).text(),
      key: await Bun.file(key).text(),
    });
    const r = await run("doctor", "--node", url, ...secrets);
    expectOneClearLine(r, url, /TLS error .*--ca-cert FILE, or --insecure/);
    expectNoSecrets(r);
    const insecure = await run("doctor", "--node", url, "--insecure");
    expectOneClearLine(insecure, url, /not Elasticsearch/);
    const trusted = await run("doctor", "--node", url, "--ca-cert", cert);
    expectOneClearLine(trusted, url, /not Elasticsearch/);
  });

  test("401 from the cluster", async () => {
    const url = serve(() => Response.json({ error: "unauthorized" }, { status: 401 }));
    const r = await run("doctor", "--node", url, ...secrets);
    expectOneClearLine(r, url, /authentication failed \(401\)/);
    expectNoSecrets(r);
  });

  test("403 from the cluster", async () => {
    const url = serve(() => Response.json({ error: "forbidden" }, { status: 403 }));
    const r = await run("doctor", "--node", url, ...secrets);
    expectOneClearLine(r, url, /access denied \(403\)/);
  });

  test("some other HTTP server (not Elasticsearch)", async () => {
    const url = serve(
      () => new Response("<!doctype html><title>hello</title>", { headers: { "content-type": "text/html" } }),
    );
    const r = await run("doctor", "--node", url, ...secrets);
    expectOneClearLine(r, url, /not Elasticsearch/);
    expectNoSecrets(r);
    const json = serve(() => Response.json({ hello: "world" }));
    const r2 = await run("doctor", "--node", json);
    expectOneClearLine(r2, json, /not Elasticsearch or OpenSearch \(no version in GET \/\)/);
  });

  test("a server that echoes the credentials back in an error", async () => {
    const url = serve((req) =>
      Response.json({ error: "boom", headers: Object.fromEntries(req.headers) }, { status: 500 }),
    );
    for (const args of [secrets.slice(0, 4), secrets.slice(4)]) {
      const r = await run("doctor", "--node", url, ...args);
      expectOneClearLine(r, url, /HTTP 500/);
      expectNoSecrets(r);
    }
    const inUrl = url.replace("//", `//elastic:${PASSWORD}@`);
    const r = await run("doctor", "--node", inUrl);
    expectOneClearLine(r, url, /HTTP 500/);
    expectNoSecrets(r);
  });

  test("--json on failure prints nothing on stdout", async () => {
    const r = await run("doctor", "--json", "--node", "http://127.0.0.1:1");
    expectOneClearLine(r, "http://127.0.0.1:1", /connection refused/);
  });
});
