/**
 * A record's node tree into evtx_dump's JSON layout, rule for rule as evtx (the crate behind evtx_dump
 * and Python's `evtx` package) builds it:
 * - `<A>text</A>` → `"A": text` (numbers stay numbers); an empty element → `"A": null`;
 * - attributes → `"A": {"#attributes": {...}, "#text": text}` (attributes whose value is null are left out);
 * - `<Data Name="X">v</Data>` → `"X": v` (a later X replaces an earlier one; no value → `""`);
 * - `<Data>v</Data>` without a name → `"Data": {"#text": v}`, several → `{"#text": [v1, v2, …]}`;
 *   dropped when the same parent also has named Data;
 * - a repeated element name: the later ones become `Name_1`, `Name_2`, …;
 * - text pieces of one element (entity references) are joined; text before a child element becomes `#text`.
 * Text is trimmed of surrounding white space, as in the exports beside the regression files (Python's
 * `evtx` keeps it). An array value (type | 0x80) stays a JSON array where evtx keeps only its last
 * element: nothing of the event is lost.
 */
import { type Attr, K, type Node } from "./tokens.ts";
import { type Json, T_BINXML, T_NULL, textOf } from "./values.ts";

type Obj = { [k: string]: Json };

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function isObj(v: Json | undefined): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isPlaceholder(v: Json | undefined): boolean {
  if (v === null || v === undefined) return true;
  if (isObj(v)) {
    for (const _ in v) return false;
    return true;
  }
  return false;
}

const ELEMENT = 0;
const NAMED_DATA = 1;
const UNNAMED_DATA = 2;

class JsonBuilder {
  readonly root: Obj = {};
  // One entry per open element: the object holding its value, its key there, its kind.
  private readonly holders: Obj[] = [];
  private readonly keys: string[] = [];
  private readonly kinds: number[] = [];
  private depth = 0;

  /** The open element's value made an object (null → {}, text → {"#text": text}), for a child. */
  private parentObject(): Obj {
    if (this.depth === 0) return this.root;
    const h = this.holders[this.depth - 1]!;
    const k = this.keys[this.depth - 1]!;
    if (this.kinds[this.depth - 1] === UNNAMED_DATA) {
      let d = h.Data;
      if (!isObj(d)) h.Data = d = d === undefined || d === null ? {} : { "#text": d };
      return d;
    }
    const v = h[k];
    if (isObj(v)) return v;
    const m: Obj = v === null || v === undefined ? {} : { "#text": v };
    h[k] = m;
    return m;
  }

  private push(holder: Obj, key: string, kind: number): void {
    const d = this.depth++;
    this.holders[d] = holder;
    this.keys[d] = key;
    this.kinds[d] = kind;
  }

  open(name: string, attrs: [string, Json][]): void {
    const p = this.parentObject();
    if (name === "Data") {
      for (let i = 0; i < attrs.length; i++) {
        if (attrs[i]![0] === "Name") {
          const key = textOf(attrs[i]![1]);
          p[key] = null;
          this.push(p, key, NAMED_DATA);
          return;
        }
      }
      this.push(p, "Data", UNNAMED_DATA);
      return;
    }
    let key = name;
    if (!isPlaceholder(p[name])) {
      let slot = 1;
      while (`${name}_${slot}` in p) slot++;
      key = `${name}_${slot}`;
    }
    let kept: Obj | null = null;
    for (let i = 0; i < attrs.length; i++) {
      const [an, av] = attrs[i]!;
      if (av !== null) (kept ??= {})[an] = av;
    }
    p[key] = kept === null ? null : { "#attributes": kept };
    this.push(p, key, ELEMENT);
  }

  text(value: Json): void {
    if (value === null || value === "" || this.depth === 0) return;
    const d = this.depth - 1;
    const h = this.holders[d]!;
    if (this.kinds[d] === UNNAMED_DATA) {
      for (const k in h) if (k !== "Data") return; // named Data in the same parent: evtx drops these
      const v = trimmedAll(value);
      const data = h.Data;
      if (!isObj(data)) {
        h.Data = { "#text": v };
        return;
      }
      const t = data["#text"];
      if (t === undefined || t === null) data["#text"] = v;
      else if (Array.isArray(t)) Array.isArray(v) ? t.push(...v) : t.push(v);
      else data["#text"] = Array.isArray(v) ? [t, ...v] : [t, v];
      return;
    }
    const k = this.keys[d]!;
    const cur = h[k];
    if (cur === null || cur === undefined) h[k] = value;
    else if (isObj(cur)) {
      const t = cur["#text"];
      cur["#text"] = t === undefined || t === null ? value : textOf(t) + textOf(value);
    } else h[k] = textOf(cur) + textOf(value);
  }

  close(): void {
    const d = --this.depth;
    if (this.kinds[d] === UNNAMED_DATA) return;
    const h = this.holders[d]!;
    const k = this.keys[d]!;
    const v = h[k];
    if (v === null) {
      if (this.kinds[d] === NAMED_DATA) h[k] = "";
    } else if (typeof v === "string" || Array.isArray(v)) {
      h[k] = trimmedAll(v);
    } else if (isObj(v) && v["#text"] !== undefined) {
      v["#text"] = trimmedAll(v["#text"]!);
    }
  }

  finish(): Obj {
    if (this.depth !== 0) throw new Error("record ended inside an element");
    return this.root;
  }
}

function isSpace(c: number): boolean {
  return (
    c === 32 ||
    (c >= 9 && c <= 13) ||
    c === 0xa0 ||
    c === 0xfeff ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0x85
  );
}

function trimmed(v: Json): Json {
  if (typeof v !== "string" || v.length === 0) return v;
  return isSpace(v.charCodeAt(0)) || isSpace(v.charCodeAt(v.length - 1)) ? v.trim() : v;
}

/** Trimmed text, and each string of an array trimmed. */
function trimmedAll(v: Json): Json {
  return Array.isArray(v) ? v.map(trimmed) : trimmed(v);
}

/** An attribute's value: its one part, or its parts' text joined; null when it has no value. */
function attrValue(a: Attr, types: Uint8Array | null, values: (Json | Node[])[] | null): Json {
  const parts = a.parts;
  if (parts.length === 1) return partValue(parts[0]!, types, values);
  if (parts.length === 0) return null;
  let s = "";
  let any = false;
  for (const p of parts) {
    const v = partValue(p, types, values);
    if (v !== null) {
      s += textOf(v);
      any = true;
    }
  }
  return any ? s : null;
}

function partValue(p: Node, types: Uint8Array | null, values: (Json | Node[])[] | null): Json {
  switch (p.k) {
    case K.Value:
      return p.v;
    case K.Subst: {
      if (!types || p.i >= types.length) return null;
      const t = types[p.i]!;
      if (t === T_NULL || t === T_BINXML) return null;
      return values![p.i] as Json;
    }
    case K.Entity:
      return ENTITIES[p.name]!;
    case K.CharRef:
      return String.fromCharCode(p.code);
    default:
      return null;
  }
}

const NO_ATTRS: [string, Json][] = [];

function render(nodes: Node[], types: Uint8Array | null, values: (Json | Node[])[] | null, out: JsonBuilder): void {
  for (let n = 0; n < nodes.length; n++) {
    const node = nodes[n]!;
    switch (node.k) {
      case K.Element: {
        let attrs = NO_ATTRS;
        if (node.attrs.length > 0) {
          attrs = [];
          for (const a of node.attrs) attrs.push([a.name, attrValue(a, types, values)]);
        }
        out.open(node.name, attrs);
        render(node.children, types, values, out);
        out.close();
        break;
      }
      case K.Value:
        out.text(node.v);
        break;
      case K.Subst: {
        // A null value (or one past the array) writes no text, optional substitution or not.
        const t = types && node.i < types.length ? types[node.i]! : T_NULL;
        if (t === T_BINXML) render(values![node.i] as Node[], null, null, out);
        else if (t !== T_NULL) out.text(values![node.i] as Json);
        break;
      }
      case K.Entity:
        out.text(ENTITIES[node.name]!);
        break;
      case K.CharRef:
        out.text(String.fromCharCode(node.code));
        break;
      case K.TemplateInstance:
        render(node.tpl, node.types, node.values, out);
        break;
    }
  }
}

/** The evtx_dump JSON object of a record's parsed fragment. */
export function toJson(nodes: Node[]): Obj {
  const out = new JsonBuilder();
  render(nodes, null, null, out);
  return out.finish();
}
