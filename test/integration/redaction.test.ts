/**
 * One redaction for every message (issue 11.3), with the binary: a tiny local HTTP server stands for a
 * proxy in front of Elasticsearch (it is not Elasticsearch): it answers `GET /` as a 7.10 node would,
 * and every other request with 400, 403 or 500 and a body echoing the request headers (the
 * Authorization header as sent, and decoded). Each command that talks to a cluster is run with each
 * way of giving credentials; every stdout, stderr and the state directory are searched for the
 * secret in all its encodings. Commander's own errors and a scheme-less `--node user:pass@host` too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ensureBinary, runBin, type Run } from "../helpers/binary.ts";

const USER = "elastic";
const PASSWORD = "pw/Zq81+never print";
const API_ID = "kid-7x";
const API_SECRET = "kkey-never-print-91";
const API_KEY = Buffer.from(`${API_ID}:${API_SECRET}`).toString("base64");

const forms = (() => {
  const basic = Buffer.from(`${USER}:${PASSWORD}`).toString("base64");
  return [
    PASSWORD,
    encodeURIComponent(PASSWORD),
    encodeURIComponent(PASSWORD).replace(/%20/g, "+"),
    JSON.stringify(PASSWORD).slice(1, -1),
    basic,
    basic.replace(/=+$/, ""),
    API_KEY,
    API_KEY.replace(/=+$/, ""),
    `${API_ID}:${API_SECRET}`,
    API_SECRET,
    `${USER}:${encodeURIComponent(PASSWORD)}@`,
  ];
})();

let status = 500;
let server: ReturnType<typeof Bun.serve>;
let readsNotFound = false;
const dir = mkdtempSync(path.join(tmpdir(), "outliers-redact-"));
const stateDir = path.join(dir, "state");
const rule = path.join(dir, "r.conf");
const docs = path.join(dir, "docs.ndjson");

beforeAll(() => {
  ensureBinary();
  mkdirSync(stateDir, { recursive: true });
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      const headers = Object.fromEntries(req.headers.entries());
      if (req.method === "GET" && url.pathname === "/")
        return Response.json({
          name: "proxy",
          cluster_name: "c",
          version: { number: "7.10.2", build_flavor: "default" },
          tagline: "You Know, for Search",
        });
      const auth = headers.authorization ?? "";
      // Everything but bulk answers "not found" (echoing the credentials too) when a test wants ingest to reach its bulk requests.
      const code = readsNotFound && !url.pathname.endsWith("/_bulk") ? 404 : status;
      const decoded = Buffer.from(auth.replace(/^\S+\s+/, ""), "base64").toString("utf8");
      const reason = `proxy refused ${req.method} ${url.pathname}: headers ${JSON.stringify(headers)} credentials ${decoded}`;
      return Response.json(
        { error: { root_cause: [{ type: "proxy_exception", reason }], type: "proxy_exception", reason }, status: code },
        { status: code },
      );
    },
  });
  writeFileSync(
    rule,
    `[simplequery_r]\nes_dsl_filter = {"query": {"term": {"x": "hit"}}}\nes_index = red-*\noutlier_type = t\noutlier_reason = r\noutlier_summary = s\nrun_model = 1\ntest_model = 0\n`,
  );
  writeFileSync(docs, `{"x":"hit","@timestamp":"2026-01-01T00:00:00Z"}\n`);
}, 120_000);

afterAll(() => {
  server?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

function everything(r: Run): string {
  let all = r.stdout + r.stderr;
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = path.join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else all += readFileSync(p, "utf8");
    }
  };
  try {
    walk(stateDir);
  } catch {
    // no state written
  }
  return all;
}

function expectClean(r: Run, label: string): void {
  const all = everything(r);
  for (const f of forms)
    expect(all.includes(f), `${label} printed ${JSON.stringify(f)}:\n${all.slice(0, 2000)}`).toBe(false);
}

const commands: Array<[string, string[]]> = [
  ["doctor", ["doctor"]],
  ["pipeline status", ["pipeline", "status", "--name", "red"]],
  ["pipeline status --json", ["pipeline", "status", "--name", "red", "--json"]],
  ["pipeline install", ["pipeline", "install", rule, "--name", "red", "--index", "red-*"]],
  ["pipeline simulate", ["pipeline", "simulate", rule, "--docs", docs]],
  ["ingest", ["ingest", docs, "--index", "red-1"]],
  ["ingest --json", ["ingest", docs, "--index", "red-1", "--json", "--errors", path.join(stateDir, "errors.ndjson")]],
  ["backfill", ["backfill", rule, "--since", "30d", "--index", "red-1"]],
  ["backfill --json", ["backfill", rule, "--since", "30d", "--index", "red-1", "--json"]],
  ["untag", ["untag", "--all", "--index", "red-1"]],
  ["untag --dry-run", ["untag", "--all", "--index", "red-1", "--dry-run"]],
];

describe("every command, every way of giving credentials, answers 400/403/500 echoing them: no secret printed", () => {
  const url = () => `http://127.0.0.1:${server.port}`;
  const ways: Array<[string, () => { args: string[]; env: Record<string, string> }]> = [
    ["--username/--password", () => ({ args: ["--node", url(), "--username", USER, "--password", PASSWORD], env: {} })],
    ["--api-key", () => ({ args: ["--node", url(), "--api-key", API_KEY], env: {} })],
    [
      "ES_API_KEY (decoded id:key)",
      () => ({ args: ["--node", url()], env: { ES_API_KEY: `${API_ID}:${API_SECRET}` } }),
    ],
    [
      "user:pass@ in ES_URL",
      () => ({ args: [], env: { ES_URL: `http://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${server.port}` } }),
    ],
  ];
  for (const code of [400, 403, 500])
    for (const [way, make] of ways)
      test(`HTTP ${code}, ${way}`, async () => {
        status = code;
        const { args, env } = make();
        for (const [label, cmd] of commands) {
          const r = await runBin([...cmd, ...args], { ...env, OUTLIERS_STATE_DIR: stateDir });
          // The command failed (the proxy refuses everything) and said so.
          expect(r.code, `${label}: ${r.stderr}`).not.toBe(0);
          // A server error is a cluster failure (3); ingest reports the refused documents (1).
          if (code === 500)
            expect(label.startsWith("ingest") ? [1, 3] : [3], `${label}: exit ${r.code}`).toContain(r.code);
          expect(r.stderr.length + r.stdout.length, label).toBeGreaterThan(0);
          expectClean(r, `${label} (${code}, ${way})`);
        }
      }, 120_000);
});

describe("secrets the command line holds before anything connects", () => {
  test("commander's unknown-option error does not echo a mistyped --pasword=X", async () => {
    const r = await runBin(["doctor", `--pasword=${PASSWORD}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option");
    expectClean(r, "--pasword");
  });

  test("a scheme-less --node user:pass@host is not echoed", async () => {
    const r = await runBin(["doctor", "--node", `${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${server.port}`]);
    expect(r.code).not.toBe(0);
    expectClean(r, "scheme-less --node");
    const raw = await runBin(["doctor", "--node", `${USER}:secretpass99@127.0.0.1:1`]);
    expect(raw.code).not.toBe(0);
    expect(raw.stdout + raw.stderr).not.toContain("secretpass99");
  });
});

/**
 * Issue 17.5: credential shapes the first redaction missed. A URL password with an unencoded `@`,
 * space or `/`; an API key in a message cut to 200 characters. No fragment of 6 or more characters of
 * any secret (in any of its encodings) may appear in stdout, stderr, the --errors file or the state,
 * and every file the CLI writes there is readable by its owner only.
 */
describe("credential shapes: unencoded @, space and / in a URL password; a cut through an API key", () => {
  const secretForms = (user: string, pass: string) => {
    const basic = Buffer.from(`${user}:${pass}`).toString("base64");
    return [pass, encodeURIComponent(pass), basic, basic.replace(/=+$/, "")];
  };
  /** Every 6-character piece of each secret form, and of each `@`-separated part of the password. */
  const fragments = (forms: string[]) => {
    const out = new Set<string>();
    for (const f of forms) for (let i = 0; i + 6 <= f.length; i++) out.add(f.slice(i, i + 6));
    return [...out];
  };
  function expectNoFragment(all: string, forms: string[], label: string): void {
    for (const frag of fragments(forms))
      expect(all.includes(frag), `${label} printed ${JSON.stringify(frag)}:\n${all.slice(0, 3000)}`).toBe(false);
  }
  function expectPrivateFiles(d: string, label: string): number {
    let n = 0;
    const walk = (x: string) => {
      for (const f of readdirSync(x)) {
        const p = path.join(x, f);
        const st = statSync(p);
        if (st.isDirectory()) walk(p);
        else {
          n++;
          expect((st.mode & 0o777).toString(8), `${label}: ${p}`).toBe("600");
        }
      }
    };
    walk(d);
    return n;
  }

  const shapes: Array<[string, string]> = [
    ["unencoded @", "Pq@ssw0rd77"],
    ["two unencoded @", "Zr@@mk4Yw@q9"],
    ["a space", "open sesame42"],
    ["a slash", "slash/Secr3t99"],
    ["@, space and slash", "Hv8@k w/Qe71"],
  ];
  for (const [shape, pass] of shapes)
    for (const where of ["--node", "ES_URL"])
      test(`a URL password with ${shape}, given in ${where}`, async () => {
        status = 400;
        const d = mkdtempSync(path.join(tmpdir(), "outliers-redact-shape-"));
        const errors = path.join(d, "errors.ndjson");
        const node = `http://alice:${pass}@127.0.0.1:${server.port}`;
        const forms = secretForms("alice", pass);
        try {
          let all = "";
          for (const [label, cmd] of [
            ...commands,
            ["ingest --errors", ["ingest", docs, "--index", "red-1", "--errors", errors]] as [string, string[]],
          ]) {
            const args = where === "--node" ? [...cmd, "--node", node] : cmd;
            const env: Record<string, string> = where === "--node" ? {} : { ES_URL: node };
            // ingest reads the target's settings first: those reads find nothing, so its bulk requests are sent (and refused).
            readsNotFound = label === "ingest --errors";
            const r = await runBin(args, { ...env, OUTLIERS_STATE_DIR: path.join(d, "state") }).finally(() => {
              readsNotFound = false;
            });
            expect(r.code, `${label}: ${r.stderr}`).not.toBe(0);
            all += r.stdout + r.stderr;
            if (pass.includes("/")) {
              // Not a URL: the usage error shows the node with everything before its last `@` masked.
              expect(r.code, label).toBe(2);
              expect(r.stderr, label).toContain(`http://***@127.0.0.1:${server.port}`);
            }
          }
          const files = expectPrivateFiles(d, shape);
          if (!pass.includes("/")) {
            // The proxy refused the documents with the credentials in its reason: the --errors file holds them.
            expect(files, "the --errors file was written").toBeGreaterThan(0);
            expect(readFileSync(errors, "utf8")).toContain("proxy refused");
          }
          for (const f of readdirSync(d, { recursive: true }) as string[]) {
            const p = path.join(d, f);
            if (statSync(p).isFile()) all += readFileSync(p, "utf8");
          }
          expectNoFragment(all, forms, `${shape} in ${where}`);
        } finally {
          rmSync(d, { recursive: true, force: true });
        }
      }, 240_000);

  test("an API key in an answer cut to 200 characters: redacted before the cut", async () => {
    const ID = "KeyId123";
    const KEY = "S3cr3tK3y";
    // A node whose GET / fails with a long JSON answer echoing the Authorization header so that
    // the 200-character cut falls inside the key.
    const cutter = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const auth = req.headers.get("authorization") ?? "";
        const head = `{"error":"bad gateway","detail":"`;
        const filler = "x".repeat(200 - head.length - `ApiKey ${ID}:S3c`.length);
        return new Response(`${head}${filler}${auth}"}`, {
          status: 502,
          headers: { "content-type": "application/json" },
        });
      },
    });
    try {
      for (const args of [
        ["doctor", "--node", `http://127.0.0.1:${cutter.port}`, "--api-key", `${ID}:${KEY}`],
        ["pipeline", "status", "--json", "--node", `http://127.0.0.1:${cutter.port}`, "--api-key", `${ID}:${KEY}`],
      ]) {
        const r = await runBin(args);
        expect(r.code).toBe(3);
        expect(r.stderr).toContain("HTTP 502");
        expectNoFragment(
          r.stdout + r.stderr,
          [`${ID}:${KEY}`, KEY, Buffer.from(`${ID}:${KEY}`).toString("base64")],
          "cut",
        );
      }
    } finally {
      cutter.stop(true);
    }
  });
});
