/**
 * One event's values as the Painless matcher sees them (src/emit/painless/source.ts: oxFlat, oxRaw,
 * oxTxt, oxNum, oxLow), in JavaScript: every leaf under its dotted path (objects and lists walked,
 * literal dotted keys and nested objects alike), then per field view the text Elasticsearch indexes
 * (keyword source text, JSON numbers and booleans as their text, values over `ignore_above` left out)
 * or the canonical doc-value text of ip/long/double/boolean fields. Each view is computed at most
 * once per event.
 *
 * Java's number text differs from JavaScript's (`Double.toString(1.5E7)`): javaNumberText and
 * javaParseDouble reproduce it. A JSON number with a fraction of zero (`1.0`) reaches Painless as a
 * Double ("1.0") but JavaScript's JSON.parse keeps no trace of the `.0`: such values print as
 * integers here (a documented difference; Windows events carry numbers as integers or strings).
 */
import { ipText, parseIp } from "../../ir/ip.ts";
import { foldAscii } from "../../ir/semantics.ts";

/** How a field's values are compared: keyword text, or a typed doc value's text. */
export type ViewType = "keyword" | "long" | "double" | "boolean" | "ip" | "date";

export interface View {
  path: string;
  type: ViewType;
  /** Longest keyword/date value that is indexed (-1: no limit). */
  ignoreAbove: number;
}

const EMPTY: readonly unknown[] = Object.freeze([]);

/** Every non-null leaf of `node` under its dotted path (oxFlat). */
export function flatten(node: unknown, path: string | null, out: Map<string, unknown[]>): void {
  if (node === null || node === undefined) return;
  if (Array.isArray(node)) {
    for (const e of node) flatten(e, path, out);
    return;
  }
  if (typeof node === "object") {
    for (const k in node as Record<string, unknown>) {
      const v = (node as Record<string, unknown>)[k];
      if (v !== null && v !== undefined) flatten(v, path === null ? k : path + "." + k, out);
    }
    return;
  }
  if (path === null) return;
  const l = out.get(path);
  if (l) l.push(node);
  else out.set(path, [node]);
}

/** Java's `Double.toString`. */
export function javaDoubleText(d: number): string {
  if (Number.isNaN(d)) return "NaN";
  if (d === Infinity) return "Infinity";
  if (d === -Infinity) return "-Infinity";
  if (d === 0) return Object.is(d, -0) ? "-0.0" : "0.0";
  const a = Math.abs(d);
  if (a >= 1e-3 && a < 1e7) {
    const s = String(d);
    return s.includes(".") ? s : s + ".0";
  }
  const [mant, exp] = d.toExponential().split("e");
  return `${mant!.includes(".") ? mant : mant + ".0"}E${Number(exp)}`;
}

/** The text of a JSON number as Painless prints it (Integer/Long as digits, Double per Java). */
export function javaNumberText(n: number): string {
  return Number.isInteger(n) && Math.abs(n) < 2 ** 63 ? String(n) : javaDoubleText(n);
}

const JAVA_DOUBLE = /^[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)[fFdD]?$/;

/** Java's `Double.parseDouble(s.trim())`; NaN when the text is no number (hex floats are not read). */
export function javaParseDouble(s: string): number {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) <= 32) a++;
  while (b > a && s.charCodeAt(b - 1) <= 32) b--;
  const t = s.slice(a, b);
  if (t === "" || !JAVA_DOUBLE.test(t)) return NaN;
  const last = t.charCodeAt(t.length - 1);
  const body = (last | 32) === 100 || (last | 32) === 102 ? t.slice(0, -1) : t; // d, f suffix
  return Number(body);
}

/** Per-event caches of the views; `reset` starts a new event. */
export class EventValues {
  flat = new Map<string, unknown[]>();
  private gen = 0;
  private readonly stamp: Int32Array;
  private readonly txtCache: (string[] | undefined)[];
  private readonly lowStamp: Int32Array;
  private readonly lowCache: (string[] | undefined)[];
  private readonly numStamp: Int32Array;
  private readonly numCache: (number[] | undefined)[];

  constructor(readonly views: View[]) {
    const n = views.length;
    this.stamp = new Int32Array(n);
    this.lowStamp = new Int32Array(n);
    this.numStamp = new Int32Array(n);
    this.txtCache = new Array(n);
    this.lowCache = new Array(n);
    this.numCache = new Array(n);
  }

  reset(doc: unknown): void {
    this.gen++;
    this.flat = new Map();
    flatten(doc, null, this.flat);
  }

  raw(vi: number): readonly unknown[] {
    return this.flat.get(this.views[vi]!.path) ?? EMPTY;
  }

  /** Numeric values of a long/double view (oxNum): numbers, and strings Java parses; long truncates. */
  num(vi: number): number[] {
    if (this.numStamp[vi] === this.gen) return this.numCache[vi]!;
    const out: number[] = [];
    const long = this.views[vi]!.type === "long";
    for (const x of this.raw(vi)) {
      let d = typeof x === "number" ? x : typeof x === "string" ? javaParseDouble(x) : NaN;
      if (Number.isNaN(d)) continue;
      if (long) d = Math.trunc(d) || 0;
      out.push(d);
    }
    this.numStamp[vi] = this.gen;
    this.numCache[vi] = out;
    return out;
  }

  /** The text the view's values compare as (oxTxt). */
  txt(vi: number): string[] {
    if (this.stamp[vi] === this.gen) return this.txtCache[vi]!;
    const v = this.views[vi]!;
    const out: string[] = [];
    switch (v.type) {
      case "keyword":
      case "date":
        for (const x of this.raw(vi)) {
          const s =
            typeof x === "string"
              ? x
              : typeof x === "number"
                ? javaNumberText(x)
                : typeof x === "boolean"
                  ? String(x)
                  : null;
          if (s !== null && (v.ignoreAbove < 0 || s.length <= v.ignoreAbove)) out.push(s);
        }
        break;
      case "long":
        for (const d of this.num(vi)) out.push(String(d));
        break;
      case "double":
        for (const d of this.num(vi)) out.push(javaDoubleText(d));
        break;
      case "boolean":
        for (const x of this.raw(vi)) if (typeof x === "boolean" || x === "true" || x === "false") out.push(String(x));
        break;
      case "ip":
        for (const x of this.raw(vi)) {
          if (typeof x !== "string") continue;
          const r = parseIp(x);
          if (r) out.push(ipText(r));
        }
        break;
    }
    this.stamp[vi] = this.gen;
    this.txtCache[vi] = out;
    return out;
  }

  /** The view's text, ASCII-folded (oxLow). */
  low(vi: number): string[] {
    if (this.lowStamp[vi] === this.gen) return this.lowCache[vi]!;
    const out = this.txt(vi).map(foldAscii);
    this.lowStamp[vi] = this.gen;
    this.lowCache[vi] = out;
    return out;
  }
}
