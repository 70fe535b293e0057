/**
 * The one redaction every message leaving the process passes through: stdout and stderr (so --json,
 * progress, commander's own usage errors and every error line), the state files and reports we write.
 *
 * Secrets are registered as soon as they are known: from the command line before it is parsed
 * (`--password`, `--api-key`, credentials inside `--node`, and the value of any mistyped option whose
 * name looks like one, e.g. `--pasword=X`), from ES_PASSWORD / ES_API_KEY / ES_URL, and from the
 * connection options. Each is hidden in every form it can take on the wire or in an echo: as given,
 * URL-encoded, the Basic header's base64 of user:password, an API key's encoded (base64 id:key) and
 * decoded (id:key) forms and its key part. On top of the registered values, `user:pass@` in URLs and
 * the value of Authorization-style headers are hidden whatever they hold.
 */

const MASK = "***";
const secrets = new Set<string>();
/** Shorter values would mask ordinary words; such secrets are still caught by the header patterns. */
const MIN_LENGTH = 3;

function add(v: string | undefined): void {
  if (!v || v.length < MIN_LENGTH) return;
  const enc = encodeURIComponent(v);
  for (const form of [v, enc, enc.replace(/%20/g, "+"), enc.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())])
    if (form.length >= MIN_LENGTH) secrets.add(form);
  // JSON-escaped (a body echoing the value inside a string).
  const json = JSON.stringify(v).slice(1, -1);
  if (json !== v) secrets.add(json);
}

function b64(s: string): string {
  return Buffer.from(s, "utf8").toString("base64");
}

function printableDecode(s: string): string | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(s) || s.length % 4 === 1) return undefined;
  const d = Buffer.from(s, "base64").toString("utf8");
  return /^[\x20-\x7e]+$/.test(d) ? d : undefined;
}

/** A password (with the user it goes with, for the Basic header's base64). */
export function registerPassword(password: string | undefined, username?: string): void {
  if (!password) return;
  add(password);
  if (username !== undefined) {
    const basic = b64(`${username}:${password}`);
    add(basic);
    add(basic.replace(/=+$/, ""));
  }
}

/** An API key as given: encoded (base64 of id:key) or decoded (id:key). */
export function registerApiKey(key: string | undefined): void {
  if (!key) return;
  add(key);
  const decoded = printableDecode(key);
  const idKey = decoded?.includes(":") ? decoded : key.includes(":") ? key : undefined;
  if (idKey) {
    add(idKey);
    add(idKey.slice(idKey.indexOf(":") + 1));
    add(b64(idKey));
    add(b64(idKey).replace(/=+$/, ""));
  }
  add(key.replace(/=+$/, ""));
}

/** Credentials inside a node URL, with or without a scheme (`user:pass@host`). */
export function registerNode(node: string | undefined): void {
  if (!node) return;
  const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?([^:@/\s]*):([^@/\s]*)@/i.exec(node);
  if (m) {
    let user = m[1]!;
    let pass = m[2]!;
    try {
      user = decodeURIComponent(user);
      pass = decodeURIComponent(pass);
    } catch {
      // kept as written
    }
    registerPassword(pass, user);
    add(m[2]);
    add(`${m[1]}:${m[2]}`);
  }
}

/** Secret-looking option names, mistyped ones included (`--pasword`, `--apikey`, `--token`). */
const SECRET_OPTION = /^--?[a-z-]*(pas|pwd|pw|key|token|secret|auth|cred)[a-z-]*$/i;

/** Registers what the command line and environment hold, before anything parses or echoes them. */
export function registerFromArgs(argv: string[], env: Record<string, string | undefined> = process.env): void {
  let username = env.ES_USERNAME;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf("=");
    const [name, value] = a.startsWith("-") && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, argv[i + 1]];
    if (name === "--username" && value !== undefined) username = value;
  }
  registerPassword(env.ES_PASSWORD, username);
  registerApiKey(env.ES_API_KEY);
  registerNode(env.ES_URL);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf("=");
    const inline = a.startsWith("-") && eq > 0;
    const name = inline ? a.slice(0, eq) : a;
    const value = inline ? a.slice(eq + 1) : argv[i + 1];
    if (value === undefined || !name.startsWith("-")) continue;
    if (name === "--node") registerNode(value);
    else if (name === "--api-key") registerApiKey(value);
    else if (name === "--password") registerPassword(value, username);
    else if (SECRET_OPTION.test(name) && name !== "--ca-cert") {
      registerPassword(value, username);
      registerApiKey(value);
    }
  }
}

/**
 * Hides every registered secret, then (once any secret was given: without one, nothing of ours can
 * be echoed, and `compile` output keeps rule values like `Basic auth` or URLs as written) the value
 * of an echoed Authorization header and `user:pass@` in URLs, whatever they hold.
 */
export function redact(text: string): string {
  if (secrets.size === 0) return text;
  let out = text;
  // Longest first, so that a secret containing another is hidden whole.
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) if (out.includes(s)) out = out.split(s).join(MASK);
  out = out.replace(
    /(authorization\\?"?\s*[:=]\s*\\?"?\s*(?:Basic|ApiKey|Bearer)(?:\s+|%20|\+))(?!\*\*\*)[A-Za-z0-9+/=._~%:-]+/gi,
    `$1${MASK}`,
  );
  return out.replace(/([a-z][a-z0-9+.-]*:\/\/)[^@/\s"']*:[^@/\s"']*@/gi, "$1");
}

let installed = false;

/** Routes stdout and stderr through `redact` (once per process). */
export function redactOutput(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    (stream as { write: unknown }).write = (chunk: string | Uint8Array, ...rest: unknown[]) =>
      write(redact(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8")), ...rest);
  }
}

/** For tests: forget what was registered. */
export function clearSecrets(): void {
  secrets.clear();
}

/** The connection options a command resolved (flags, then environment). */
export function registerConnection(conn: {
  node?: string;
  apiKey?: string;
  username?: string;
  password?: string;
}): void {
  registerNode(conn.node);
  registerApiKey(conn.apiKey);
  let user = conn.username;
  if (user === undefined && conn.node) {
    try {
      user = decodeURIComponent(new URL(conn.node).username) || undefined;
    } catch {
      // not a URL
    }
  }
  registerPassword(conn.password, user);
}
