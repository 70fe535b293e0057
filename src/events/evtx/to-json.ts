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
  // Result of the last walk: the value at the path and where it is held.
  private holder: Obj | null = null;
  private key = "";

  /** Walks the first `depth` keys of the stack, creating objects on the way; returns the value there. */
  private walk(depth: number): Json {
    let v: Json = this.root;
    let holder: Obj | null = null;
    let key = "";
    for (let i = 0; i < depth; i++) {
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
      holder = v as Obj;
      key = k;
      v = (v as Obj)[k]!;
    }
    this.holder = holder;
    this.key = key;
    return v;
  }

  /** The object holding the innermost key, after creating the whole path. */
  private parent(): Obj {
    this.walk(this.stack.length);
    const p = this.stack.length === 1 ? this.root : this.walk(this.stack.length - 1);
    if (!isObj(p)) throw new Error(`cannot place <${this.stack[this.stack.length - 1]}> under a non-object value`);
    return p;
  }

  private openWithoutAttributes(name: string): void {
    this.stack.push(name);
    const p = this.parent();
    const old = p[name];
    p[name] = null;
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
      this.parent()[name] = null;
    }
  }

  close(): void {
    this.stack.pop();
  }

  text(value: Json): void {
    const v = this.walk(this.stack.length);
    if (v === null) {
      if (this.holder) this.holder[this.key] = value;
    } else if (isObj(v)) {
      v["#text"] = value;
    } else if (typeof v === "string") {
      this.holder![this.key] = v + textOf(value);
    } else {
      throw new Error(`cannot add text to <${this.key}>: it already holds ${JSON.stringify(v)}`);
    }
  }

  finish(): Obj {
    if (this.stack.length !== 0) throw new Error("record ended inside an element");
    return this.root;
  }
}

function trimmed(v: Json): Json {
  return typeof v === "string" ? v.trim() : v;
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
