/**
 * Sigma rule files (YAML) into typed `SigmaRule` documents.
 *
 * Speed matters (the whole SigmaHQ corpus should compile in well under 2 s), and the `yaml`
 * package alone needs more than a second for the corpus, so the common case is parsed with Bun's
 * native YAML parser (YAML 1.2 core schema, checked to give identical values for every file of the
 * corpus, see test/unit/sigma-corpus.test.ts). The `yaml` package is used, for one file at a time,
 * when it gives something the native parser cannot:
 * - multi-document files (`action: global`/`reset`/`repeat`), so documents are split exactly;
 * - numeric literals whose text is not the number's canonical form (`0x17`, `1.0`, `0777`): the
 *   source text is kept (`NumLit`) so that a keyword field compares against what the rule wrote;
 * - line numbers for error messages (`path:line: detection.selection: …`), computed lazily, only
 *   when a message is produced.
 */
import {
  LineCounter,
  parseAllDocuments,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  type Document,
  type Node as YNode,
  type YAMLError,
} from "yaml";
import type { Logsource } from "../../mapping/profile.ts";
import { locatedMessage, locationText, type RuleLocation } from "../../ir/errors.ts";
import { parseCorrelationDoc, type SigmaCorrelationDoc } from "./correlation.ts";

/** A YAML number whose source text differs from its canonical JavaScript text (`0x17`, `1.0`). */
export class NumLit {
  constructor(
    public value: number,
    public src: string,
  ) {}
}

export type Place = (string | number)[];

export interface SigmaDetection {
  /** Search identifiers in file order (everything except `condition` and `timeframe`). */
  searches: Map<string, unknown>;
  /** The condition(s); a list means OR. */
  conditions: string[];
  timeframe?: string;
}

export interface SigmaRule {
  path: string;
  /** Index of the YAML document in the file (0 for single-document files). */
  docIndex: number;
  title: string;
  id?: string;
  /** Sigma 2.0 `name`: a unique name filters and correlations may refer to the rule by. */
  name?: string;
  status?: string;
  level?: string;
  description?: string;
  references: string[];
  tags: string[];
  author?: string;
  logsource: Logsource;
  falsepositives: string[];
  fields: string[];
  detection: SigmaDetection;
  /** `path:line: place` for messages about a place in this document. */
  where(place: Place): string;
  /** The same place as a location (file, line, YAML path). */
  locate(place: Place): RuleLocation;
}

/** A document that could not be read as a Sigma rule. */
export interface SigmaParseFailure {
  path: string;
  docIndex: number;
  status: "error" | "unsupported";
  id?: string;
  title?: string;
  error: string;
  location: RuleLocation;
}

/**
 * A Sigma 2.0 filter document (meta-filter specification): a logsource, `filter.rules` naming rule ids
 * or names (or `any`), searches and one condition, applied to those rules (src/rules/sigma/filters.ts).
 */
export interface SigmaFilterDoc {
  path: string;
  docIndex: number;
  title: string;
  id?: string;
  logsource: Logsource;
  /** Rule ids or names; "any" applies the filter to every rule of a matching logsource. */
  rules: string[] | "any";
  searches: Map<string, unknown>;
  condition: string;
  where(place: Place): string;
  locate(place: Place): RuleLocation;
}

export type ParsedDocument =
  | { rule: SigmaRule }
  | { failure: SigmaParseFailure }
  | { filter: SigmaFilterDoc }
  | { correlation: SigmaCorrelationDoc };

const YAML = (Bun as unknown as { YAML: { parse(s: string): unknown } }).YAML;

/** A document separator or end marker at the start of a line. */
const MULTI_DOC = /^(---|\.\.\.)(\s|$)/m;
/** Unquoted scalars that look like numbers (block `key: 1`, `- 1` and flow `[1, 2]` positions). */
const NUMBERISH =
  /(?:[:\-[,] |^\s*- )([-+]?(?:0[xXoO][0-9a-fA-F]+|[0-9][0-9_]*(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?))[ \t]*(?=$|[,\]}#\r])/gm;

const SP = 32,
  TAB = 9,
  NL = 10,
  CR = 13,
  HASH = 35,
  DASH = 45,
  COLON = 58,
  SQ = 39,
  DQ = 34,
  PIPE = 124,
  GT = 62;

/**
 * A cheap scan for a key repeated in one block map (a trigger only: `yaml` decides, so a false
 * alarm only costs a `yaml` parse). Lines inside block scalars are skipped. Character-level on
 * purpose: it runs on every file.
 */
export function mayHaveDuplicateKeys(text: string): boolean {
  const scopes: { indent: number; keys: Set<string> }[] = [];
  let blockIndent = -1; // inside a block scalar whose key line has this indentation
  const n = text.length;
  let i = 0;
  while (i < n) {
    let eol = text.indexOf("\n", i);
    if (eol < 0) eol = n;
    let j = i;
    while (j < eol && text.charCodeAt(j) === SP) j++;
    const indent = j - i;
    const lineStart = i;
    i = eol + 1;
    const c = j < eol ? text.charCodeAt(j) : NL;
    if (c === NL || c === CR || c === HASH) continue;
    if (blockIndent >= 0) {
      if (indent > blockIndent) continue;
      blockIndent = -1;
    }
    if (c === DASH && j === lineStart && text.startsWith("---", j)) {
      scopes.length = 0;
      continue;
    }
    // list item dashes: `- key: v`, `- - key: v`
    let dashed = false;
    while (
      j + 1 < eol &&
      text.charCodeAt(j) === DASH &&
      (text.charCodeAt(j + 1) === SP || text.charCodeAt(j + 1) === TAB)
    ) {
      dashed = true;
      j += 2;
      while (j < eol && text.charCodeAt(j) === SP) j++;
    }
    const keyIndent = j - lineStart;
    // the key: quoted, or plain up to `: `/`:` at the end; a ` #` first means a comment
    let keyEnd = -1;
    let afterColon = -1;
    const k0 = text.charCodeAt(j);
    if (k0 === SQ || k0 === DQ) {
      const close = text.indexOf(k0 === SQ ? "'" : '"', j + 1);
      if (close < 0 || close >= eol) continue;
      let k = close + 1;
      while (k < eol && (text.charCodeAt(k) === SP || text.charCodeAt(k) === TAB)) k++;
      if (text.charCodeAt(k) !== COLON) continue;
      keyEnd = close + 1;
      afterColon = k + 1;
    } else {
      if (k0 === HASH || k0 === 91 || k0 === 123 || k0 === 38 || k0 === 42 || k0 === 33 || k0 === 124 || k0 === 62)
        continue; // [ { & * ! | >
      for (let k = j; k < eol; k++) {
        const ch = text.charCodeAt(k);
        if (ch === HASH && k > j && (text.charCodeAt(k - 1) === SP || text.charCodeAt(k - 1) === TAB)) break;
        if (ch === COLON) {
          const nx = k + 1 < eol ? text.charCodeAt(k + 1) : NL;
          if (nx === SP || nx === TAB || nx === NL || nx === CR) {
            keyEnd = k;
            afterColon = k + 1;
            break;
          }
        }
      }
      if (keyEnd < 0) continue;
    }
    while (scopes.length && scopes[scopes.length - 1]!.indent > keyIndent) scopes.pop();
    let top: { indent: number; keys: Set<string> } | undefined = scopes[scopes.length - 1];
    if (dashed && top && top.indent === keyIndent) {
      scopes.pop(); // a new list item starts a new map
      top = undefined;
    }
    if (!top || top.indent !== keyIndent) {
      top = { indent: keyIndent, keys: new Set() };
      scopes.push(top);
    }
    // 'k', "k" and k are one key
    const key = k0 === SQ || k0 === DQ ? text.slice(j + 1, keyEnd - 1) : text.slice(j, keyEnd).trimEnd();
    if (top.keys.has(key)) return true;
    top.keys.add(key);
    let v = afterColon;
    while (v < eol && (text.charCodeAt(v) === SP || text.charCodeAt(v) === TAB)) v++;
    const vc = v < eol ? text.charCodeAt(v) : NL;
    if (vc === PIPE || vc === GT) blockIndent = indent;
  }
  return false;
}

function hasNumber(v: unknown): boolean {
  if (typeof v === "number") return true;
  if (Array.isArray(v)) return v.some(hasNumber);
  if (typeof v === "object" && v !== null) {
    for (const k in v) if (hasNumber((v as Record<string, unknown>)[k])) return true;
  }
  return false;
}

function hasNonCanonicalNumber(text: string): boolean {
  NUMBERISH.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = NUMBERISH.exec(text)) !== null) {
    const tok = m[1]!;
    if (/^[-+]?[0-9]+$/.test(tok) && String(Number(tok)) === tok) continue;
    if (String(Number(tok)) !== tok) return true;
  }
  return false;
}

/** Lazily parsed `yaml` documents with line numbers, for messages and exact documents. */
class SourceDocs {
  private docs?: Document.Parsed[];
  private lc = new LineCounter();
  constructor(
    public path: string,
    public text: string,
  ) {}

  get parsed(): Document.Parsed[] {
    if (!this.docs) this.docs = parseAllDocuments(this.text, { lineCounter: this.lc }) as Document.Parsed[];
    return this.docs;
  }

  /** 1-based line of `place` in document `docIndex` (or in the global document it inherits). */
  line(docIndex: number, place: Place, alsoIn: number[] = []): number | undefined {
    if (docIndex === 0 && alsoIn.length === 0) {
      const quick = quickLine(this.text, place);
      if (quick !== undefined) return quick;
    }
    let fallback: number | undefined;
    for (const d of [docIndex, ...alsoIn]) {
      const doc = this.parsed[d];
      if (!doc) continue;
      const r = this.find(doc, place);
      if (r.found) return r.line;
      if (d === docIndex) fallback = r.line;
    }
    return fallback;
  }

  private find(doc: Document.Parsed, place: Place): { found: boolean; line?: number } {
    let node: unknown = doc.contents;
    let line = rangeLine(node, this.lc);
    for (const key of place) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(key));
        if (!pair) return { found: false, line };
        line = rangeLine(pair.key, this.lc) ?? line;
        node = pair.value;
      } else if (isSeq(node) && typeof key === "number" && key < node.items.length) {
        node = node.items[key];
        line = rangeLine(node, this.lc) ?? line;
      } else return { found: false, line };
    }
    return { found: true, line };
  }
}

/**
 * The line of a map-key path in block-style YAML by scanning lines (no parse): each key is looked
 * for among the direct children of the previous one (same indentation, before the block ends).
 * Undefined when unsure (list indices, flow style, quoted or odd keys), and `yaml` answers instead.
 */
export function quickLine(text: string, place: Place): number | undefined {
  if (place.length === 0) return 1;
  const lines = text.split("\n");
  let from = 0; // first line of the parent's block
  let parentIndent = -1;
  for (const key of place) {
    if (typeof key !== "string" || !/^[A-Za-z0-9_.|\- ]+$/.test(key)) return undefined;
    let childIndent = -1;
    let found = -1;
    for (let i = from; i < lines.length; i++) {
      const line = lines[i]!;
      const body = line.trimStart();
      if (body === "" || body.startsWith("#")) continue;
      if (body === "---" || body === "...") return undefined;
      const indent = line.length - body.length;
      if (indent <= parentIndent) return undefined; // the parent's block ended
      if (childIndent < 0) childIndent = indent;
      if (indent !== childIndent) continue;
      if (body.startsWith(key) && /^[ \t]*:(\s|$)/.test(body.slice(key.length))) {
        found = i;
        break;
      }
    }
    if (found < 0) return undefined;
    from = found + 1;
    parentIndent = childIndent;
  }
  return from; // 1-based line of the last key = its 0-based index + 1
}

function rangeLine(node: unknown, lc: LineCounter): number | undefined {
  const r = (node as { range?: [number, number, number] } | null)?.range;
  return r ? lc.linePos(r[0]).line : undefined;
}

/** Plain JavaScript values from a `yaml` node, keeping non-canonical number literals as NumLit. */
function toPlain(node: unknown, doc: Document.Parsed): unknown {
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return toPlain(node.resolve(doc), doc);
  if (isScalar(node)) {
    const v = node.value;
    if (typeof v === "number" && typeof node.source === "string" && node.source !== String(v)) {
      return new NumLit(v, node.source);
    }
    return v;
  }
  if (isMap(node)) {
    const o: Record<string, unknown> = {};
    for (const p of node.items) {
      const k = isScalar(p.key) ? String(p.key.value) : String(p.key);
      o[k] = toPlain(p.value, doc);
    }
    return o;
  }
  if (isSeq(node)) return node.items.map((i) => toPlain(i, doc));
  return (node as YNode).toJSON?.() ?? null;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof NumLit);
}

/** sigmac's `deep_update_dict`: maps merge recursively, everything else is replaced. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObj(b) && isObj(v) ? deepMerge(b, v) : v;
  }
  return out;
}

/** Parses one Sigma file into its rule documents (or failures, one per broken document). */
export function parseSigmaFile(path: string, text: string): ParsedDocument[] {
  const src = new SourceDocs(path, text);
  const multi = MULTI_DOC.test(text);
  let raws: unknown[];
  try {
    let fast: unknown;
    let exact = multi;
    if (!multi) {
      fast = YAML.parse(text);
      // Only numbers in the detection need their source text; look at the text only then.
      exact =
        (hasNumber((fast as { detection?: unknown } | null)?.detection) && hasNonCanonicalNumber(text)) ||
        // The native parser keeps the last of duplicate keys silently; `yaml` reports them.
        mayHaveDuplicateKeys(text);
    }
    if (exact) {
      const docs = src.parsed;
      for (const d of docs) {
        if (d.errors.length > 0) return [yamlFailure(path, text, d.errors[0]!)];
      }
      raws = docs.map((d) => toPlain(d.contents, d));
    } else {
      raws = [fast];
    }
  } catch (e) {
    // The native parser rejected it: let `yaml` say where.
    const docs = src.parsed;
    for (const d of docs) {
      if (d.errors.length > 0) return [yamlFailure(path, text, d.errors[0]!)];
    }
    return [fileFailure(path, `invalid YAML: ${firstLine(String((e as Error)?.message ?? e))}`)];
  }

  // Multi-document collections, as sigmac read them.
  const out: ParsedDocument[] = [];
  let global: Record<string, unknown> = {};
  let globalIndex: number | undefined;
  let previous: { raw: Record<string, unknown>; index: number } | undefined;
  for (let i = 0; i < raws.length; i++) {
    const raw = raws[i];
    if (raw === null || raw === undefined) continue; // empty document (e.g. a trailing `---`)
    if (!isObj(raw)) {
      out.push({
        failure: docFailure(locate(src, i, [], []), i, `a Sigma rule document must be a YAML map, not ${kindOf(raw)}`),
      });
      continue;
    }
    const action = raw.action;
    // Single-document files (nearly all): the document as it is, no copies.
    if (action === undefined && globalIndex === undefined && Object.keys(global).length === 0) {
      previous = { raw, index: i };
      out.push(buildRule(src, i, raw, []));
      continue;
    }
    const { action: _action, ...rest } = raw;
    if (action === "global") {
      global = deepMerge(global, rest);
      globalIndex = i;
      continue;
    }
    if (action === "reset") {
      global = {};
      globalIndex = undefined;
      continue;
    }
    let merged: Record<string, unknown>;
    if (action === "repeat") {
      if (!previous) {
        out.push({
          failure: docFailure(locate(src, i, ["action"], []), i, "'action: repeat' needs an earlier rule document"),
        });
        continue;
      }
      merged = deepMerge(previous.raw, rest);
    } else if (action !== undefined) {
      out.push({
        failure: docFailure(
          locate(src, i, ["action"], []),
          i,
          `unknown action '${String(action)}' (global, reset or repeat)`,
        ),
      });
      continue;
    } else {
      merged = deepMerge(global, rest);
    }
    previous = { raw: merged, index: i };
    const alsoIn = globalIndex !== undefined ? [globalIndex] : [];
    out.push(buildRule(src, i, merged, alsoIn));
  }
  if (out.length === 0) out.push(fileFailure(path, "no Sigma rule in file"));
  return out;
}

function yamlFailure(path: string, text: string, e: YAMLError): ParsedDocument {
  const line = e.linePos?.[0]?.line || undefined;
  if (e.code === "DUPLICATE_KEY" && line) {
    const src = text.split("\n")[line - 1] ?? "";
    const key = /^[\s-]*(.*?)\s*:(\s|$)/.exec(src)?.[1] ?? "";
    return fileFailure(
      path,
      `duplicate key '${key}' in one map (YAML keys must be unique; one value would be lost)`,
      line,
    );
  }
  return fileFailure(path, `invalid YAML: ${firstLine(e.message)}`, line);
}

function firstLine(s: string): string {
  return s.split("\n")[0]!.trim();
}

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (v instanceof NumLit) return "a number";
  return `a ${typeof v}`;
}

/** A place in document `docIndex` (`alsoIn`: earlier documents merged into it, for the line). */
function locate(src: SourceDocs, docIndex: number, place: Place, alsoIn: number[]): RuleLocation {
  const line = src.line(docIndex, place, alsoIn);
  return { path: src.path, ...(line !== undefined ? { line } : {}), yamlPath: place };
}

function where(src: SourceDocs, docIndex: number, place: Place, alsoIn: number[]): string {
  return locationText(locate(src, docIndex, place, alsoIn));
}

function fileFailure(path: string, message: string, line?: number): ParsedDocument {
  const location: RuleLocation = { path, ...(line !== undefined ? { line } : {}) };
  return { failure: { path, docIndex: 0, status: "error", error: locatedMessage(location, message), location } };
}

function docFailure(
  location: RuleLocation,
  docIndex: number,
  message: string,
  meta: { id?: string; title?: string } = {},
): SigmaParseFailure {
  return {
    path: location.path!,
    docIndex,
    status: "error",
    error: locatedMessage(location, message),
    location,
    ...meta,
  };
}

/** A scalar as the text it was written as (numbers keep their source text), else undefined. */
export function str(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v instanceof NumLit) return v.src;
  return undefined;
}

/** A string or a list of them (scalars as text; other entries left out). */
export function strList(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v.map(str).filter((x): x is string => x !== undefined);
  const s = str(v);
  return s === undefined ? [] : [s];
}

type Failed = ParsedDocument & { failure: SigmaParseFailure };

/** What building a rule or filter document starts from: its places, id and title, and a failure naming the place. */
function docScope(src: SourceDocs, docIndex: number, raw: Record<string, unknown>, alsoIn: number[]) {
  const at = (place: Place) => where(src, docIndex, place, alsoIn);
  const locateAt = (place: Place) => locate(src, docIndex, place, alsoIn);
  const id = str(raw.id);
  const title = str(raw.title);
  const fail = (place: Place, msg: string): Failed => ({
    failure: docFailure(locateAt(place), docIndex, msg, { id, title }),
  });
  return { path: src.path, at, locateAt, id, title, fail };
}

/**
 * A document's `logsource`: a map whose product, category and service are strings (a failure names
 * the place; `missing` is the message when there is none).
 */
function readLogsource(ls: unknown, fail: (place: Place, msg: string) => Failed, missing: string): Logsource | Failed {
  if (ls === undefined || ls === null) return fail(["logsource"], missing);
  if (!isObj(ls)) return fail(["logsource"], `logsource must be a map, not ${kindOf(ls)}`);
  const logsource: Logsource = {};
  for (const k of ["product", "category", "service"] as const) {
    if (ls[k] === undefined || ls[k] === null) continue;
    const v = str(ls[k]);
    if (v === undefined) return fail(["logsource", k], `must be a string, not ${kindOf(ls[k])}`);
    logsource[k] = v;
  }
  return logsource;
}

function buildRule(src: SourceDocs, docIndex: number, raw: Record<string, unknown>, alsoIn: number[]): ParsedDocument {
  const { path, at, locateAt, id, title, fail } = docScope(src, docIndex, raw, alsoIn);
  if (raw.correlation !== undefined) {
    const c = parseCorrelationDoc(path, docIndex, raw, locateAt);
    return "failure" in c ? { failure: { ...c.failure, id, title } } : c;
  }
  if (raw.filter !== undefined && raw.detection === undefined) return buildFilter(src, docIndex, raw, alsoIn);
  if (raw.title === undefined && raw.logsource === undefined && raw.detection === undefined) {
    return fail([], "not a Sigma rule (no title, logsource or detection)");
  }
  if (title === undefined) return fail(["title"], "missing title");
  const logsource = readLogsource(raw.logsource, fail, "missing logsource");
  if ("failure" in logsource) return logsource;
  const det = raw.detection;
  if (det === undefined || det === null) return fail(["detection"], "missing detection");
  if (!isObj(det)) return fail(["detection"], `detection must be a map, not ${kindOf(det)}`);
  const searches = new Map<string, unknown>();
  let conditions: string[] | undefined;
  let timeframe: string | undefined;
  for (const [k, v] of Object.entries(det)) {
    if (k === "condition") {
      if (typeof v === "string") conditions = [v];
      else if (Array.isArray(v) && v.length > 0 && v.every((c) => typeof c === "string")) conditions = v as string[];
      else return fail(["detection", "condition"], "condition must be a string or a list of strings");
    } else if (k === "timeframe") {
      timeframe = str(v);
    } else {
      searches.set(k, v);
    }
  }
  if (!conditions) return fail(["detection"], "missing detection.condition");
  const rule: SigmaRule = {
    path,
    docIndex,
    title,
    id,
    ...(str(raw.name) !== undefined ? { name: str(raw.name) } : {}),
    status: str(raw.status),
    level: str(raw.level),
    description: str(raw.description),
    references: strList(raw.references),
    tags: strList(raw.tags),
    author: str(raw.author),
    logsource,
    falsepositives: strList(raw.falsepositives),
    fields: strList(raw.fields),
    detection: { searches, conditions, timeframe },
    where: at,
    locate: locateAt,
  };
  return { rule };
}

/** A filter document (`filter:` with `rules:`, searches and a `condition`, and a logsource), checked. */
function buildFilter(
  src: SourceDocs,
  docIndex: number,
  raw: Record<string, unknown>,
  alsoIn: number[],
): ParsedDocument {
  const { path, at, locateAt, id, title, fail } = docScope(src, docIndex, raw, alsoIn);
  if (title === undefined) return fail(["title"], "missing title");
  const logsource = readLogsource(raw.logsource, fail, "a Sigma filter needs a logsource");
  if ("failure" in logsource) return logsource;
  const f = raw.filter;
  if (!isObj(f)) return fail(["filter"], `filter must be a map, not ${kindOf(f)}`);
  let rules: string[] | "any";
  const named = f.rules;
  if (typeof named === "string" && ["any", "all"].includes(named.toLowerCase())) rules = "any";
  else if (typeof named === "string") rules = [named];
  else if (Array.isArray(named) && named.length === 0) rules = "any";
  else if (Array.isArray(named) && named.every((x) => str(x) !== undefined)) rules = named.map((x) => str(x)!);
  else return fail(["filter", "rules"], "filter.rules must be 'any', a rule id or name, or a list of them");
  if (typeof f.condition !== "string")
    return fail(["filter", "condition"], "a Sigma filter needs one condition (a string)");
  const searches = new Map<string, unknown>();
  for (const [k, v] of Object.entries(f)) if (k !== "rules" && k !== "condition") searches.set(k, v);
  if (searches.size === 0)
    return fail(["filter"], "a Sigma filter needs at least one search besides rules and condition");
  return {
    filter: {
      path,
      docIndex,
      title,
      id,
      logsource,
      rules,
      searches,
      condition: f.condition,
      where: at,
      locate: locateAt,
    },
  };
}
