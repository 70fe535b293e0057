/**
 * scripts/es-start and scripts/es-stop on spare ports (never the node other tests use): a second start
 * prints the same URL and starts no second JVM; the node has the ingest, Painless and reindex features;
 * three nodes form one cluster; stop removes the JVM and its data. The engine is OUTLIERS_TEST_ENGINE
 * (elasticsearch, opensearch2, opensearch3: scripts/test sets it), passed to es-start as ENGINE, so the
 * same contract is checked on each. OUTLIERS_ES_START_PORTS="p1,p3" picks the one-node and three-node
 * ports (default: the first free of a few).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dir, "../..");
const HOME = process.env.ES_HOME ?? path.join(ROOT, ".es");
const ENGINE = process.env.OUTLIERS_TEST_ENGINE || "elasticsearch";
const PORTS = process.env.OUTLIERS_ES_START_PORTS?.split(",").map(Number);

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (s) => (s.end(), resolve(true)),
        data() {},
        error: () => resolve(false),
        connectError: () => resolve(false),
      },
    }).catch(() => resolve(false));
  });
}

/** A port whose HTTP range and transport range (port+100) are free. */
async function sparePort(candidates: number[], nodes: number): Promise<number> {
  for (const p of candidates) {
    let free = true;
    for (let i = 0; i < nodes && free; i++) free = !(await listening(p + i)) && !(await listening(p + 100 + i));
    if (free) return p;
  }
  throw new Error(`no free port among ${candidates.join(", ")} for a test node`);
}

async function script(
  name: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn(["bash", path.join(ROOT, "scripts", name)], {
    cwd: ROOT,
    env: { ...process.env, ENGINE, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
    p.exited,
  ]);
  return { code, stdout, stderr };
}

/** JVMs started by es-start for this port (the launcher's arguments end with the cluster name outliers-PORT). */
function jvmsFor(port: number): number {
  const r = Bun.spawnSync(["pgrep", "-f", `Outliers(Es|Os) .* outliers-${port}$`]);
  return r.stdout.toString().split("\n").filter(Boolean).length;
}

async function es(url: string, method: string, p: string, body?: unknown): Promise<any> {
  const r = await fetch(url + p, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await r.json();
  if (!r.ok) throw new Error(`${method} ${p}: HTTP ${r.status}: ${JSON.stringify(json)}`);
  return json;
}

/** Starting a JVM on a busy 2-core machine takes a while; bun's default per-test limit is 5 s. */
const START_TIMEOUT = 300_000;
const started: number[] = [];
afterAll(async () => {
  for (const port of started) await script("es-stop", { ES_PORT: String(port) });
}, START_TIMEOUT);

describe("scripts/es-start", () => {
  test(
    "one node: idempotent start, ingest + painless + reindex, clean stop",
    async () => {
      const port = await sparePort(PORTS ? [PORTS[0]!] : [9270, 9271, 9272, 9273, 9274], 1);
      started.push(port);
      const env = { ES_PORT: String(port), ES_HEAP: "1g" };
      const first = await script("es-start", env);
      if (first.code !== 0) throw new Error(`es-start failed:\n${first.stderr}`);
      const url = `http://127.0.0.1:${port}`;
      expect(first.stdout.trimEnd().split("\n").at(-1)).toBe(url);
      expect(jvmsFor(port)).toBe(1);

      const second = await script("es-start", env);
      expect(second.code).toBe(0);
      expect(second.stdout).toBe(`${url}\n`);
      expect(jvmsFor(port)).toBe(1);

      const root = await es(url, "GET", "/");
      expect(root.version.number).toMatch(/^\d+\.\d+\.\d+$/);
      // The engine asked for: OpenSearch says so in version.distribution, and its major is 2 or 3.
      expect(root.version.distribution ?? "elasticsearch").toBe(
        ENGINE === "elasticsearch" ? "elasticsearch" : "opensearch",
      );
      if (ENGINE !== "elasticsearch") expect(root.version.number.split(".")[0]).toBe(ENGINE.slice(-1));
      expect(root.cluster_name).toBe(`outliers-${port}`);
      const nodes = await es(
        url,
        "GET",
        "/_nodes?filter_path=nodes.*.roles,nodes.*.http.publish_address,nodes.*.transport.publish_address",
      );
      const node = Object.values(nodes.nodes)[0] as any;
      expect(node.roles).toContain("ingest");
      // Loopback only, on the ports asked for.
      expect(node.http.publish_address).toBe(`127.0.0.1:${port}`);
      expect(node.transport.publish_address).toBe(`127.0.0.1:${port + 100}`);

      // A pipeline with a Painless script processor simulates, and runs on indexing (an ingest node exists).
      const pipeline = { processors: [{ script: { source: "ctx.tagged = params.v", params: { v: "yes" } } }] };
      const sim = await es(url, "POST", "/_ingest/pipeline/_simulate", { pipeline, docs: [{ _source: { a: 1 } }] });
      expect(sim.docs[0].doc._source).toEqual({ a: 1, tagged: "yes" });
      await es(url, "PUT", "/_ingest/pipeline/t-es-start", pipeline);
      await es(url, "PUT", "/t-es-start/_doc/1?pipeline=t-es-start&refresh=true", { a: 1 });
      expect((await es(url, "GET", "/t-es-start/_doc/1"))._source).toEqual({ a: 1, tagged: "yes" });
      // _update_by_query (reindex module) runs a Painless update script.
      const ubq = await es(url, "POST", "/t-es-start/_update_by_query?refresh=true", {
        script: { source: "ctx._source.b = 2" },
      });
      expect(ubq.updated).toBe(1);
      expect((await es(url, "GET", "/t-es-start/_doc/1"))._source).toEqual({ a: 1, tagged: "yes", b: 2 });

      const dataDir = readFileSync(path.join(HOME, `es-${port}.data`), "utf8").trim();
      expect(existsSync(dataDir)).toBe(true);
      const stop = await script("es-stop", env);
      expect(stop.code).toBe(0);
      expect(jvmsFor(port)).toBe(0);
      expect(await listening(port)).toBe(false);
      expect(existsSync(dataDir)).toBe(false);
      expect(existsSync(path.join(HOME, `es-${port}.pid`))).toBe(false);
    },
    START_TIMEOUT,
  );

  test(
    "three nodes form one cluster on their own ports",
    async () => {
      const port = await sparePort(PORTS ? [PORTS[1]!] : [9280, 9285, 9290], 3);
      started.push(port);
      const env = { ES_PORT: String(port), ES_NODES: "3", ES_HEAP: "1500m" };
      const start = await script("es-start", env);
      if (start.code !== 0) throw new Error(`es-start failed:\n${start.stderr}`);
      const url = `http://127.0.0.1:${port}`;
      expect(start.stdout.trimEnd().split("\n").at(-1)).toBe(url);
      const health = await es(url, "GET", "/_cluster/health");
      expect(health.cluster_name).toBe(`outliers-${port}`);
      expect(health.number_of_nodes).toBe(3);
      const cat: Array<{ name: string; "node.role": string }> = await es(
        url,
        "GET",
        "/_cat/nodes?format=json&h=name,node.role",
      );
      expect(cat.map((n) => n.name).sort()).toEqual(["Node 1", "Node 2", "Node 3"]);
      for (const n of cat) expect(n["node.role"]).toContain("i");
      // Each node answers HTTP on its own port, in the same cluster.
      for (const i of [1, 2])
        expect((await es(`http://127.0.0.1:${port + i}`, "GET", "/")).cluster_uuid).toBe(
          (await es(url, "GET", "/")).cluster_uuid,
        );
      expect(jvmsFor(port)).toBe(1);
      const stop = await script("es-stop", env);
      expect(stop.code).toBe(0);
      expect(jvmsFor(port)).toBe(0);
    },
    START_TIMEOUT,
  );

  test("a port taken by something else is refused with a clear message", async () => {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("hi") });
    try {
      const r = await script("es-start", { ES_PORT: String(server.port) });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`port ${server.port} on 127.0.0.1 is already in use`);
      expect(r.stdout).toBe("");
    } finally {
      server.stop(true);
    }
  });
});
