/**
 * The one place that talks to a cluster, Elasticsearch 7.10-9.x or OpenSearch 1.x-3.x: connection
 * options, TLS, auth, the @elastic/elasticsearch client, and turning every way a connection can fail
 * into one clear line (exit status 3), with secrets redacted. Every request (typed client calls and the
 * raw bodies of rest.ts) goes through the one client built here.
 *
 * The client runs under Bun and inside the compiled binary with `HttpConnection` (node:http); the
 * default undici connection fails under Bun. Before building the client we ask `GET /` ourselves
 * (`probe`), so that the engine is known first (engine.ts): the 8.x client's product check refuses
 * OpenSearch ("The client noticed that the server is not Elasticsearch") and Elasticsearch before 7.14
 * (no X-Elastic-Product header), and both reject its `compatible-with=8` media types (OpenSearch: 406
 * "Content-Type header [application/vnd.elasticsearch+json; compatible-with=8] is not supported"). For
 * those the client gets a Transport without the check that speaks plain JSON; the rest of the client
 * (typed APIs, errors, retries, TLS) is the same for every engine.
 */
import { readFileSync } from "node:fs";
import type { Client, Transport } from "@elastic/elasticsearch";
import type { Command } from "commander";
import { ClusterError, UsageError } from "../../util/errors.ts";
import { clip, redact as redactText, registerConnection, safeNode } from "../../util/redact.ts";
import { engineOf } from "./engine.ts";

export interface ConnectionOptions {
  node?: string;
  apiKey?: string;
  username?: string;
  password?: string;
  caCert?: string;
  insecure?: boolean;
  /** Request timeout in milliseconds. */
  timeoutMs?: number;
}

export interface ClusterInfo {
  url: string;
  version: string;
  major: number;
  minor: number;
  distribution: "elasticsearch" | "opensearch";
  clusterName: string;
  /** Elasticsearch's build_flavor ("default", "oss"), when it says. */
  flavor?: string;
}

export interface Cluster {
  client: Client;
  info: ClusterInfo;
  /** URL without credentials, for messages. */
  url: string;
}

/** Adds the contract's connection flags to a command. Values fall back to ES_* environment variables. */
export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option("--node <url>", "Elasticsearch URL (env ES_URL, default http://localhost:9200)")
    .option("--api-key <key>", "API key, base64 id:key (env ES_API_KEY)")
    .option("--username <name>", "basic auth user (env ES_USERNAME)")
    .option("--password <password>", "basic auth password (env ES_PASSWORD)")
    .option("--ca-cert <file>", "CA certificate (PEM) to trust for https")
    .option("--insecure", "do not verify the server's TLS certificate");
}

const CONNECTION_KEYS = ["node", "apiKey", "username", "password", "caCert", "insecure"] as const;

/**
 * The same flags before the command name (`outliers --node URL doctor`): the program takes them and
 * hands them to the command that runs, unless that command was given its own. Needs the program's
 * positional options, so that flags after the command name stay the command's.
 */
export function addGlobalConnectionOptions(program: Command): Command {
  program.enablePositionalOptions();
  addConnectionOptions(program);
  return program.hook("preAction", (_program, action) => {
    const global = program.opts();
    for (const key of CONNECTION_KEYS) {
      if (global[key] !== undefined && action.getOptionValue(key) === undefined)
        action.setOptionValue(key, global[key]);
    }
  });
}

/** Reads the connection options of a command, with the environment as fallback. */
export function connectionFrom(opts: Record<string, unknown>, env = process.env): ConnectionOptions {
  return {
    node: (opts.node as string | undefined) ?? env.ES_URL ?? "http://localhost:9200",
    apiKey: (opts.apiKey as string | undefined) ?? env.ES_API_KEY,
    username: (opts.username as string | undefined) ?? env.ES_USERNAME,
    password: (opts.password as string | undefined) ?? env.ES_PASSWORD,
    caCert: opts.caCert as string | undefined,
    insecure: Boolean(opts.insecure),
  };
}

/** The URL with any user:password removed, safe to print. */
export function safeUrl(raw: string): string {
  return safeNode(raw);
}

/** Removes every secret we were given from a message, whatever produced it (src/util/redact.ts). */
export function redact(message: string, conn: ConnectionOptions): string {
  registerConnection(conn);
  return redactText(message);
}

function authHeader(conn: ConnectionOptions, url: URL): string | undefined {
  if (conn.apiKey) return `ApiKey ${conn.apiKey}`;
  const user = conn.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const pass = conn.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  if (user !== undefined && pass !== undefined) return `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
  return undefined;
}

function tlsOptions(conn: ConnectionOptions): { ca?: string; rejectUnauthorized: boolean } {
  let ca: string | undefined;
  if (conn.caCert) {
    try {
      ca = readFileSync(conn.caCert, "utf8");
    } catch (e) {
      throw new UsageError(`--ca-cert ${conn.caCert}: ${(e as Error).message}`);
    }
  }
  return { ca, rejectUnauthorized: !conn.insecure };
}

/** Explains a low-level failure (refused, timeout, TLS, DNS) in words a user acts on. */
export function describeCause(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e?.code ?? e?.cause?.code ?? "";
  const msg = e?.message ?? String(err);
  if (/ECONNREFUSED|ConnectionRefused/i.test(code + msg)) return "connection refused (is Elasticsearch running there?)";
  if (/ENOTFOUND|EAI_AGAIN/i.test(code + msg)) return "host not found";
  if (/ETIMEDOUT|timeout|timed out|TimeoutError|aborted/i.test(code + msg)) return "timed out (no answer)";
  if (/EPROTO|handshake|wrong version number|packet length/i.test(code + msg))
    return "TLS handshake failed (does the server speak https on this port? try http://)";
  if (/CERT|SSL|TLS|self[- ]signed|certificate/i.test(code + msg))
    return `TLS error (${msg.split("\n")[0]}); give --ca-cert FILE, or --insecure to skip verification`;
  if (/ECONNRESET|socket hang up/i.test(code + msg))
    return "connection reset (wrong protocol? try https:// or http://)";
  return msg.split("\n")[0] ?? "unknown error";
}

/**
 * `GET /` with plain HTTP: tells what answers at the URL before the client is built, and fails with
 * one clear line (ClusterError, exit 3) when it is unreachable, refuses us, or is not Elasticsearch.
 */
export async function probe(conn: ConnectionOptions): Promise<ClusterInfo> {
  const raw = conn.node ?? "http://localhost:9200";
  registerConnection(conn);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--node ${safeUrl(raw)}: not a URL (expected e.g. http://localhost:9200)`);
  }
  const shown = safeUrl(raw);
  const headers: Record<string, string> = { accept: "application/json" };
  const auth = authHeader(conn, url);
  if (auth) headers.authorization = auth;
  const base = `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, "")}`;
  const tls = tlsOptions(conn);
  let res: Response;
  try {
    res = await fetch(`${base}/`, {
      headers,
      signal: AbortSignal.timeout(conn.timeoutMs ?? 10_000),
      // Bun's fetch takes TLS options here.
      tls: { rejectUnauthorized: tls.rejectUnauthorized, ca: tls.ca },
    } as RequestInit);
  } catch (e) {
    throw new ClusterError(redact(`cannot reach ${shown}: ${describeCause(e)}`, conn));
  }
  const text = await res.text();
  if (res.status === 401)
    throw new ClusterError(`${shown}: authentication failed (401); check --api-key or --username/--password`);
  if (res.status === 403) throw new ClusterError(`${shown}: access denied (403); the user lacks the monitor privilege`);
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ClusterError(`${shown}: not Elasticsearch or OpenSearch (HTTP ${res.status}, answer is not JSON)`);
  }
  if (!res.ok) throw new ClusterError(`${shown}: HTTP ${res.status}: ${clip(text, 200)}`);
  const version: string | undefined = body?.version?.number;
  if (!version || typeof body?.tagline !== "string")
    throw new ClusterError(`${shown}: not Elasticsearch or OpenSearch (no version in GET /)`);
  const distribution = body.version.distribution === "opensearch" ? "opensearch" : "elasticsearch";
  const [major, minor] = version.split(".").map((n: string) => Number.parseInt(n, 10));
  if (distribution === "elasticsearch" && (major! < 7 || (major === 7 && minor! < 10)))
    throw new ClusterError(`${shown}: Elasticsearch ${version} is too old; outliers needs 7.10 or later`);
  if (distribution === "opensearch" && major! < 1)
    throw new ClusterError(`${shown}: OpenSearch ${version} is not a release outliers knows (1.x-3.x)`);
  const flavor = typeof body.version.build_flavor === "string" ? { flavor: body.version.build_flavor as string } : {};
  return {
    url: shown,
    version,
    major: major!,
    minor: minor!,
    distribution,
    clusterName: body.cluster_name ?? "",
    ...flavor,
  };
}

/**
 * The client library, loaded on first use: evaluating it costs about 20 ms, which commands that never
 * talk to a cluster (and `--help`) should not pay. Import its types only, elsewhere too.
 */
let elasticModule: Promise<typeof import("@elastic/elasticsearch")> | undefined;
export function elastic(): Promise<typeof import("@elastic/elasticsearch")> {
  elasticModule ??= import("@elastic/elasticsearch");
  return elasticModule;
}

/**
 * A Transport that talks plain JSON and skips the product header check, for servers without them
 * (OpenSearch, Elasticsearch 7.10-7.13). The rest of the client is unchanged.
 */
function plainJsonTransport(Base: typeof Transport): typeof Transport {
  return class PlainJsonTransport extends Base {
    constructor(opts: ConstructorParameters<typeof Transport>[0]) {
      super({
        ...opts,
        productCheck: null,
        vendoredHeaders: {
          jsonContentType: "application/json",
          ndjsonContentType: "application/x-ndjson",
          accept: "application/json",
        },
      } as unknown as ConstructorParameters<typeof Transport>[0]);
    }
  };
}

/** An error answer from Elasticsearch (the client's ResponseError), recognised without loading the client. */
export function isResponseError(
  e: unknown,
): e is Error & { statusCode?: number; meta: { statusCode?: number; body?: unknown } } {
  return e instanceof Error && e.name === "ResponseError" && typeof (e as { meta?: unknown }).meta === "object";
}

/** Probes the cluster and returns a ready client. Throws ClusterError (exit 3) when it cannot. */
export async function connect(conn: ConnectionOptions): Promise<Cluster> {
  const info = await probe(conn);
  const url = new URL(conn.node ?? "http://localhost:9200");
  const user = conn.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const pass = conn.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  url.username = "";
  url.password = "";
  // Elasticsearch 7.14-7.17 sends the header but not the 8.x media types: plain JSON below 8 too.
  const legacy = !engineOf(info).productHeader || info.major < 8;
  const { Client, HttpConnection, Transport } = await elastic();
  const client = new Client({
    node: url.toString(),
    Connection: HttpConnection,
    ...(legacy ? { Transport: plainJsonTransport(Transport) } : {}),
    auth: conn.apiKey
      ? { apiKey: conn.apiKey }
      : user !== undefined && pass !== undefined
        ? { username: user, password: pass }
        : undefined,
    tls: tlsOptions(conn),
    requestTimeout: conn.timeoutMs ?? 120_000,
    maxRetries: 2,
  });
  return { client, info, url: info.url };
}

/**
 * Runs a cluster call and turns transport failures into one clear ClusterError line; Elasticsearch's
 * own error answers (4xx/5xx with a body) are left to the caller.
 */
export async function call<T>(cluster: Cluster, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const { errors } = await elastic();
    if (
      e instanceof errors.ConnectionError ||
      e instanceof errors.TimeoutError ||
      e instanceof errors.NoLivingConnectionsError
    )
      throw new ClusterError(`${cluster.url}: ${what}: ${describeCause(e)}`);
    if (e instanceof errors.ResponseError && (e.statusCode === 401 || e.statusCode === 403))
      throw new ClusterError(
        `${cluster.url}: ${what}: ${e.statusCode === 401 ? "authentication failed (401)" : `not allowed (403): ${esReason(e)}`}`,
      );
    throw e;
  }
}

/** The reason Elasticsearch gave in an error answer, in one line. */
export function esReason(e: unknown): string {
  const body = (e as { meta?: { body?: any } })?.meta?.body;
  const root = body?.error?.root_cause?.[0];
  const reason = root?.reason ?? body?.error?.reason ?? (typeof body?.error === "string" ? body.error : undefined);
  if (reason) return String(reason);
  return (e as Error)?.message?.split("\n")[0] ?? String(e);
}
