/**
 * The event generator, from the rule representation (the IR): `hitFields` builds the fields that make
 * a rule hold; `rng` is the one seeded PRNG. `generateEvents` is the adversarial corpus of the
 * live-vs-query checks and the benchmarks; scripts/gen-events.ts (the demo's `--rules` hits) is the
 * realistic winlogbeat stream built on the same `hitFields` and `rng`.
 *
 * generateEvents: part built from the rules themselves (an event that satisfies a random rule, then
 * perturbed: hits and near misses for many rules), part realistic background (process creation,
 * network, file, registry, image load, logon). Values come in every shape the matcher must handle:
 * nested objects, literal dotted keys at any split, arrays with decoys, numbers as strings and
 * strings as numbers, mixed case, missing fields.
 */
import type { Field, Node, Rule, WildcardPart } from "../../src/ir/types.ts";
import { isCidr } from "../../src/emit/dsl.ts";

type Flat = Map<string, unknown>;

/**
 * The one seeded PRNG of the generators, tests and benchmarks (mulberry32): the same seed, the same
 * stream. A string seed is hashed to 32 bits first (so `--seed demo` works).
 */
export function rng(seed: number | string): () => number {
  let a = typeof seed === "number" ? seed >>> 0 : hashSeed(seed);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashSeed(seed: string): number {
  let h = 1779033703 ^ seed.length;
  for (const ch of seed) {
    h = Math.imul(h ^ ch.charCodeAt(0), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  h = Math.imul(h ^ (h >>> 16), 2246822507);
  h = Math.imul(h ^ (h >>> 13), 3266489909);
  return (h ^ (h >>> 16)) >>> 0;
}

const DIRS = [
  "C:\\Windows\\System32",
  "C:\\Windows\\SysWOW64",
  "C:\\Program Files\\Common Files",
  "C:\\Users\\alice\\AppData\\Local\\Temp",
  "C:\\ProgramData",
  "D:\\tools",
];
const EXES = [
  "cmd.exe",
  "powershell.exe",
  "rundll32.exe",
  "svchost.exe",
  "explorer.exe",
  "chrome.exe",
  "mshta.exe",
  "regsvr32.exe",
  "wmic.exe",
  "notepad.exe",
  "msiexec.exe",
  "certutil.exe",
];
const USERS = [
  "NT AUTHORITY\\SYSTEM",
  "CORP\\alice",
  "CORP\\bob",
  "WORKGROUP\\Administrator",
  "NT AUTHORITY\\NETWORK SERVICE",
];
const WORDS = [
  "-nop",
  "-w hidden",
  "/c",
  "start",
  "update",
  "--silent",
  "-enc",
  "http://example.com/a",
  "/s",
  "install",
  "C:\\Temp\\x.dll",
  "École",
];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function junk(r: () => number, n = 1 + Math.floor(r() * 6)): string {
  let s = "";
  for (let i = 0; i < n; i++) s += "abcdefghijklmnopqrstuvwxyz0123456789_.-\\ "[Math.floor(r() * 42)];
  return s;
}

function mutateCase(r: () => number, s: string): string {
  const x = r();
  if (x < 0.15) return s.toUpperCase();
  if (x < 0.3) return s.toLowerCase();
  return s;
}

function fromParts(r: () => number, parts: WildcardPart[]): string {
  return parts.map((p) => ("lit" in p ? p.lit : "any" in p ? junk(r, Math.floor(r() * 4)) : junk(r, 1))).join("");
}

function ipIn(r: () => number, cidr: string): string {
  const [ip, bits] = cidr.split("/");
  if (ip!.includes(":"))
    return r() < 0.5 ? ip!.replace(/::$/, "::1") : "2001:db8::" + Math.floor(r() * 65535).toString(16);
  const o = ip!.split(".").map(Number);
  const base = ((o[0]! << 24) >>> 0) + (o[1]! << 16) + (o[2]! << 8) + o[3]!;
  const span = 2 ** Math.min(24, 32 - Number(bits ?? 32));
  const n = (base + Math.floor(r() * span)) >>> 0;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : undefined;
}

/** Sets fields of `flat` so that the node probably holds (regexes and some negations aside). */
function satisfy(r: () => number, n: Node, flat: Flat): void {
  const set = (f: Field, v: unknown) => flat.set(f.name, v);
  switch (n.kind) {
    case "and":
      for (const c of n.children) satisfy(r, c, flat);
      return;
    case "or":
      satisfy(r, pick(r, n.children), flat);
      return;
    case "not":
    case "const":
    case "regex":
      return;
    case "equals":
      set(n.field, n.cased ? n.value : mutateCase(r, n.value));
      return;
    case "prefix":
      set(n.field, (n.cased ? n.value : mutateCase(r, n.value)) + (r() < 0.5 ? " " + pick(r, WORDS) : ""));
      return;
    case "suffix":
      set(n.field, (r() < 0.8 ? pick(r, DIRS) : junk(r)) + (n.cased ? n.value : mutateCase(r, n.value)));
      return;
    case "contains": {
      const old = str(flat.get(n.field.name));
      set(
        n.field,
        (old ?? pick(r, DIRS) + "\\" + pick(r, EXES)) +
          " " +
          (n.cased ? n.value : mutateCase(r, n.value)) +
          " " +
          pick(r, WORDS),
      );
      return;
    }
    case "wildcard":
      set(n.field, fromParts(r, n.parts));
      return;
    case "keyword":
      set(pick(r, n.fields), fromParts(r, n.parts));
      return;
    case "number":
      set(n.field, n.op === "eq" ? (r() < 0.5 ? n.value : String(n.value)) : n.value + (n.op.startsWith("g") ? 1 : -1));
      return;
    case "exists":
      if (n.exists) set(n.field, flat.get(n.field.name) ?? junk(r));
      else flat.delete(n.field.name);
      return;
    case "cidr":
      if (isCidr(n.cidr)) set(n.field, ipIn(r, n.cidr));
      return;
    case "fieldref": {
      const v = flat.get(n.other.name) ?? pick(r, USERS);
      flat.set(n.other.name, v);
      set(n.field, typeof v === "string" ? mutateCase(r, v) : v);
      return;
    }
  }
}

/**
 * Index fields (dotted names → values) that make the rule's condition hold: every branch of an AND,
 * one random branch of an OR, each predicate's value built from the rule's own literal (case mixed
 * where the rule is caseless). Best effort: regexes and negations are left alone. The realistic
 * stream of scripts/gen-events.ts lays these over an ordinary event of the rule's logsource.
 */
export function hitFields(r: () => number, rule: Rule): Map<string, unknown> {
  const flat: Flat = new Map();
  satisfy(r, rule.condition, flat);
  return flat;
}

function background(r: () => number, flat: Flat): void {
  const img = pick(r, DIRS) + "\\" + pick(r, EXES);
  const parent = pick(r, DIRS) + "\\" + pick(r, EXES);
  const kind = Math.floor(r() * 7);
  const sysmon = (id: number) => {
    flat.set("winlog.channel", "Microsoft-Windows-Sysmon/Operational");
    flat.set("winlog.provider_name", "Microsoft-Windows-Sysmon");
    flat.set("winlog.event_id", id);
  };
  switch (kind) {
    case 0:
      sysmon(1);
      flat.set("winlog.event_data.Image", img);
      flat.set("winlog.event_data.ParentImage", parent);
      flat.set("winlog.event_data.CommandLine", `"${img}" ${pick(r, WORDS)} ${pick(r, WORDS)}`);
      flat.set("winlog.event_data.OriginalFileName", img.split("\\").pop());
      flat.set("winlog.event_data.User", pick(r, USERS));
      flat.set("winlog.event_data.IntegrityLevel", pick(r, ["High", "Medium", "System"]));
      return;
    case 1:
      flat.set("winlog.channel", "Security");
      flat.set("winlog.event_id", 4688);
      flat.set("winlog.event_data.NewProcessName", img);
      flat.set("winlog.event_data.ParentProcessName", parent);
      flat.set("winlog.event_data.CommandLine", `${img} ${pick(r, WORDS)}`);
      return;
    case 2:
      sysmon(3);
      flat.set("winlog.event_data.Image", img);
      flat.set(
        "winlog.event_data.DestinationIp",
        pick(r, ["10.0.0.5", "192.168.1.20", "8.8.8.8", "fe80::1", "-", "2001:db8::7"]),
      );
      flat.set("winlog.event_data.DestinationPort", pick(r, [443, "80", 4444, "3389"]));
      flat.set("winlog.event_data.Initiated", pick(r, ["true", true]));
      return;
    case 3:
      sysmon(11);
      flat.set("winlog.event_data.Image", img);
      flat.set(
        "winlog.event_data.TargetFilename",
        pick(r, DIRS) + "\\" + junk(r) + pick(r, [".dll", ".ps1", ".exe", ".txt"]),
      );
      return;
    case 4:
      sysmon(13);
      flat.set("winlog.event_data.Image", img);
      flat.set("winlog.event_data.TargetObject", "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\" + junk(r));
      flat.set("winlog.event_data.Details", pick(r, ["DWORD (0x00000001)", img]));
      return;
    case 5:
      sysmon(7);
      flat.set("winlog.event_data.Image", img);
      flat.set(
        "winlog.event_data.ImageLoaded",
        pick(r, DIRS) + "\\" + pick(r, ["amsi.dll", "dbghelp.dll", "clr.dll", "wininet.dll"]),
      );
      flat.set("winlog.event_data.Signed", pick(r, ["true", "false"]));
      return;
    default:
      flat.set("winlog.channel", "Security");
      flat.set("winlog.event_id", pick(r, [4624, "4625", 4672]));
      flat.set("winlog.event_data.LogonType", pick(r, [3, "10", 2]));
      flat.set("winlog.event_data.TargetUserName", pick(r, ["alice", "ADMINISTRATOR", "svc_sql"]));
      flat.set("winlog.event_data.IpAddress", pick(r, ["10.1.2.3", "-", "::1", "172.16.5.4"]));
  }
}

/** Turns flat dotted names into a document, choosing per event how the dots are written. */
function render(r: () => number, flat: Flat): Record<string, unknown> {
  const style = r();
  const doc: Record<string, unknown> = {};
  for (const [name, raw] of flat) {
    let v = raw;
    if (name === "@timestamp") {
      doc[name] = v;
      continue;
    }
    if (typeof v === "string" && /^-?\d{1,9}$/.test(v) && r() < 0.3) v = Number(v);
    else if (typeof v === "number" && r() < 0.3) v = String(v);
    if (r() < 0.08) v = r() < 0.5 ? ["decoy", v] : [v, null];
    const parts = name.split(".");
    let cut: number;
    if (style < 0.6) cut = parts.length - 1;
    else if (style < 0.75) cut = 0;
    else cut = Math.floor(r() * parts.length);
    // parts[0..cut) become nested objects, the rest one literal dotted key
    let cur = doc;
    let ok = true;
    for (let i = 0; i < cut; i++) {
      const k = parts[i]!;
      const next = cur[k];
      if (next === undefined) cur = cur[k] = {} as Record<string, unknown>;
      else if (typeof next === "object" && next !== null && !Array.isArray(next)) cur = next as Record<string, unknown>;
      else {
        ok = false;
        break;
      }
    }
    if (ok) cur[parts.slice(cut).join(".")] = v;
    else doc[name] = v;
  }
  return doc;
}

export interface GeneratedEvent {
  id: string;
  source: Record<string, unknown>;
}

/**
 * `count` events, the same for the same seed, rules and options. `background`: the share of background
 * events (default 0.35; the rest are built from rules, hits and near misses). Background events are
 * random processes, files, registry keys and connections, so they still trip the SigmaHQ set's
 * generic rules (at 0.99, about 58% of events match some rule): more background, not fewer hits.
 */
export function generateEvents(
  rules: Rule[],
  count: number,
  seed = 1,
  opts: { background?: number } = {},
): GeneratedEvent[] {
  const r = rng(seed);
  const share = opts.background ?? 0.35;
  const flats: Flat[] = [];
  for (let i = 0; i < count; i++) {
    const flat: Flat = new Map();
    if (r() < share || rules.length === 0) background(r, flat);
    else {
      satisfy(r, pick(r, rules).condition, flat);
      if (r() < 0.25) {
        // near miss: drop or damage one field
        const keys = [...flat.keys()];
        const k = pick(r, keys);
        if (k !== undefined) {
          if (r() < 0.5) flat.delete(k);
          else flat.set(k, String(flat.get(k)) + "x");
        }
      }
    }
    flat.set("@timestamp", new Date(Date.UTC(2026, 10, 1) + Math.floor(r() * 86400000 * 20)).toISOString());
    flats.push(flat);
  }
  // A name that is also the parent of another name would be both a value and an object: drop it.
  const names = new Set<string>();
  for (const f of flats) for (const k of f.keys()) names.add(k);
  const parents = new Set<string>();
  for (const n of names) {
    const parts = n.split(".");
    for (let i = 1; i < parts.length; i++) parents.add(parts.slice(0, i).join("."));
  }
  return flats.map((flat, i) => {
    for (const k of [...flat.keys()]) if (parents.has(k)) flat.delete(k);
    return { id: `g${i}`, source: render(r, flat) };
  });
}
