/**
 * A record's node tree into evtx_dump's JSON layout, rule for rule as its JSON output builds it:
 * - `<A>text</A>` → `"A": text` (numbers stay numbers); an empty element → `"A": null`;
 * - attributes → `"A": {"#attributes": {...}, "#text": text}` (attributes whose value is null are left out);
 * - `<Data Name="X">v</Data>` → `"X": v`; `<Data>v</Data>` without a name → `"Data": {"#text": v}`;
 * - a repeated element name moves the earlier value to `Name_1`, `Name_2`, …;
 * - consecutive text pieces (entity references) are concatenated.
 * Text strings are trimmed of surrounding white space, as in the exports beside the regression files.
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

class JsonBuilder {
  readonly root: Obj = {};
  private readonly stack: string[] = [];
  /** vals[d]: the object at the first d keys of the stack, for d < valid (vals[0] is the root). */
  private readonly vals: Obj[] = [this.root];
  private valid = 1;
  // Result of the last walk: where the value at the path is held.
  private holder: Obj | null = null;
  private key = "";

  /** Walks the first `depth` keys of the stack, creating objects on the way; returns the value there. */
  private walk(depth: number): Json {
    const vals = this.vals;
    let i = Math.min(depth, this.valid - 1);
    let v: Json = vals[i]!;
    let holder: Obj | null = i > 0 ? vals[i - 1]! : null;
    let key = i > 0 ? this.stack[i - 1]! : "";
    for (; i < depth; i++) {
      const k = this.stack[i]!;
      if (isObj(v)) {
        if (!(k in v)) v[k] = {};
      } else if (v === null) {
        const m: Obj = { [k]: {} };
        holder![key] = m;
        v = m;
      } else {
        // Text followed by a child element: the text moves under the child's key (as evtx_dump does).
        const m: Obj = { [k]: v };
        holder![key] = m;
        v = m;
      }
      vals[i] = v as Obj;
      holder = v as Obj;
      key = k;
      v = (v as Obj)[k]!;
    }
    // vals[0..depth-1] hold objects now; vals[depth] too when the value there is one.
    if (isObj(v)) {
      vals[depth] = v;
      this.valid = depth + 1;
    } else {
      this.valid = depth;
    }
    this.holder = holder;
    this.key = key;
    return v;
  }

  /** Forgets cached objects at depth >= d (a value there was replaced). */
  private replacedAt(d: number): void {
    if (this.valid > d) this.valid = d;
  }

  /**
   * The object holding the innermost key (the parent element's value made an object: null becomes
   * `{}`, text `{name: text}`, as evtx_dump's path creation does).
   */
  private parentObject(): Obj {
    const d = this.stack.length - 1;
    const v = this.walk(d);
    if (isObj(v)) return v;
    const m: Obj = v === null ? {} : { [this.stack[d]!]: v };
    this.holder![this.key] = m;
    this.vals[d] = m;
    this.valid = d + 1;
    return m;
  }

  private openWithoutAttributes(name: string): void {
    this.stack.push(name);
    const p = this.parentObject();
    const old = p[name];
    p[name] = null;
    this.replacedAt(this.stack.length);
    if (!isPlaceholder(old)) {
      let slot = 1;
      while (`${name}_${slot}` in p) slot++;
      p[`${name}_${slot}`] = old!;
    }
  }

  open(name: string, attrs: [string, Json][]): void {
    if (name === "Data") {
      for (const [an, av] of attrs) {
        if (an === "Name") {
          this.openWithoutAttributes(textOf(av));
          return;
        }
      }
      this.stack.push("Data");
      this.replacedAt(this.stack.length);
      return;
    }
    if (attrs.length === 0) {
      this.openWithoutAttributes(name);
      return;
    }
    this.stack.push(name);
    const kept: Obj = {};
    let any = false;
    for (const [an, av] of attrs) {
      if (av !== null) {
        kept[an] = av;
        any = true;
      }
    }
    if (any) {
      const v = this.walk(this.stack.length);
      if (!isObj(v)) throw new Error(`cannot add attributes to <${name}>: it already holds a value`);
      v["#attributes"] = kept;
    } else {
      this.parentObject()[name] = null;
      this.replacedAt(this.stack.length);
    }
  }

  close(): void {
    this.stack.pop();
    this.replacedAt(this.stack.length + 1);
  }

  text(value: Json): void {
    const v = this.walk(this.stack.length);
    if (v === null) {
      if (this.holder) this.holder[this.key] = value;
      this.replacedAt(this.stack.length);
    } else if (isObj(v)) {
      v["#text"] = value;
    } else if (typeof v === "string") {
      this.holder![this.key] = v + textOf(value);
      this.replacedAt(this.stack.length);
    } else {
      throw new Error(`cannot add text to <${this.key}>: it already holds ${JSON.stringify(v)}`);
    }
  }

  finish(): Obj {
    if (this.stack.length !== 0) throw new Error("record ended inside an element");
    return this.root;
  }
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0x85;
}

function trimmed(v: Json): Json {
  if (typeof v !== "string" || v.length === 0) return v;
  return isSpace(v.charCodeAt(0)) || isSpace(v.charCodeAt(v.length - 1)) ? v.trim() : v;
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

function render(nodes: Node[], types: Uint8Array | null, values: (Json | Node[])[] | null, out: JsonBuilder): void {
  for (let n = 0; n < nodes.length; n++) {
    const node = nodes[n]!;
    switch (node.k) {
      case K.Element: {
        const attrs: [string, Json][] = [];
        for (const a of node.attrs) attrs.push([a.name, attrValue(a, types, values)]);
        out.open(node.name, attrs);
        render(node.children, types, values, out);
        out.close();
        break;
      }
      case K.Value:
        out.text(trimmed(node.v));
        break;
      case K.Subst: {
        if (!types || node.i >= types.length) {
          if (!node.optional) out.text(null);
          break;
        }
        const t = types[node.i]!;
        if (t === T_NULL) {
          if (!node.optional) out.text(null);
        } else if (t === T_BINXML) {
          render(values![node.i] as Node[], null, null, out);
        } else {
          out.text(trimmed(values![node.i] as Json));
        }
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
