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

import { chmodSync, writeFileSync } from "node:fs";

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

/**
 * Credentials inside a node URL, with or without a scheme (`user:pass@host`). The password may hold
 * an unencoded `@`, space or `/` (`http://alice:P@ssw0rd@host`): the user info runs to the LAST `@`
 * (as URL parsers read it), and every other way of splitting it at an `@` is hidden too, so that
 * no reading of the URL leaves a piece of the password printable.
 */
export function registerNode(node: string | undefined): void {
  if (!node) return;
  const rest = node.replace(/^\s*[a-z][a-z0-9+.-]*:\/\//i, "");
  const last = rest.lastIndexOf("@");
  if (last < 0) return;
  const info = rest.slice(0, last);
  const colon = info.indexOf(":");
  if (colon < 0) {
    // `token@host`: the whole user info is the secret.
    add(info);
    return;
  }
  const rawUser = info.slice(0, colon);
  const rawPass = info.slice(colon + 1);
  const decode = (v: string) => {
    try {
      return decodeURIComponent(v);
    } catch {
      return v;
    }
  };
  registerPassword(decode(rawPass), decode(rawUser));
  add(rawPass);
  add(info);
  // Each piece between `@`s (a reader that stops at the first `@` shows what follows it).
  for (const piece of rawPass.split("@")) add(piece);
  for (const piece of decode(rawPass).split("@")) add(piece);
}

/**
 * A URL shown in a message: without credentials when it parses, and with everything before its last
 * `@` masked when it does not (a password with an unencoded `/` or space makes it unparsable).
 */
export function safeNode(raw: string): string {
  try {
    const u = new URL(raw);
    u.username = "";
    u.password = "";
    return u.toString().replace(/\/$/, "");
  } catch {
    const last = raw.lastIndexOf("@");
    if (last < 0) return redact(raw);
    const scheme = /^\s*[a-z][a-z0-9+.-]*:\/\//i.exec(raw)?.[0] ?? "";
    return `${scheme}${MASK}@${raw.slice(last + 1)}`;
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
  // Greedy up to the last `@` of the authority: a password may hold an unencoded `@`.
  return out.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/\s"']*:[^/\s"']*@/gi, "$1");
}

/**
 * A message cut to at most `max` characters, redacted BEFORE the cut: a cut through a secret would
 * otherwise leave its first part, which no longer matches anything registered, printable.
 */
export function clip(text: string, max: number): string {
  const clean = redact(text);
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/**
 * Writes a file the CLI keeps (`--errors`, resume state, locks): redacted, and readable by the owner
 * only (0600, also when the file already existed with a wider mode).
 */
export function writePrivateFile(file: string, text: string, opts: { flag?: string } = {}): void {
  writeFileSync(file, redact(text), { mode: 0o600, flag: opts.flag ?? "w" });
  chmodSync(file, 0o600);
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
