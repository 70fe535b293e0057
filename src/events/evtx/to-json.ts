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
import { type Attr, type Emit, type Instance, K, type Node } from "./tokens.ts";
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
  readonly root: Obj;
  // One entry per open element: the object holding its value, its key there, its kind.
  private readonly holders: Obj[] = [];
  private readonly keys: string[] = [];
  private readonly kinds: number[] = [];
  private depth = 0;

  constructor(root?: Obj) {
    this.root = root ?? {};
  }

  /** The open element's value made an object (null → {}, text → {"#text": text}), for a child. */
  parentObject(): Obj {
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

  /** Continues an element a compiled template opened (`holder[key]`), e.g. for a BinXML value inside it. */
  enter(holder: Obj, key: string): void {
    this.push(holder, key, ELEMENT);
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
function attrValue(a: Attr, inst: Instance): Json {
  const parts = a.parts;
  if (parts.length === 1) return partValue(parts[0]!, inst);
  if (parts.length === 0) return null;
  let s = "";
  let any = false;
  for (const p of parts) {
    const v = partValue(p, inst);
    if (v !== null) {
      s += textOf(v);
      any = true;
    }
  }
  return any ? s : null;
}

function partValue(p: Node, inst: Instance): Json {
  switch (p.k) {
    case K.Value:
      return p.v;
    case K.Subst: {
      const types = inst.types;
      if (p.i >= types.length) return null;
      const t = types[p.i]!;
      if (t === T_NULL || t === T_BINXML) return null;
      return inst.values[p.i] as Json;
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

/** No substitutions (a record or BinXML value outside a template): every index is past the end. */
const NO_INSTANCE: Instance = {
  k: K.TemplateInstance,
  tpl: [],
  types: new Uint8Array(0),
  values: [],
  rough: null,
} as Instance;

/** One element through the builder, rule by rule (elements outside templates, and the rare shapes). */
function renderElement(node: Extract<Node, { k: K.Element }>, inst: Instance, out: JsonBuilder): void {
  let attrs = NO_ATTRS;
  if (node.attrs.length > 0) {
    attrs = [];
    for (const a of node.attrs) attrs.push([a.name, attrValue(a, inst)]);
  }
  out.open(node.name, attrs);
  render(node.children, inst, out);
  out.close();
}

function render(nodes: Node[], inst: Instance, out: JsonBuilder): void {
  for (let n = 0; n < nodes.length; n++) {
    const node = nodes[n]!;
    switch (node.k) {
      case K.Element:
        if (node.emit !== null) node.emit(out.parentObject(), inst);
        else renderElement(node, inst, out);
        break;
      case K.Value:
        out.text(node.v);
        break;
      case K.Subst: {
        // A null value (or one past the array) writes no text, optional substitution or not.
        const t = substType(inst.types, node.i);
        if (t === T_BINXML) render(inst.values[node.i] as Node[], NO_INSTANCE, out);
        else if (t !== T_NULL) out.text(inst.values[node.i] as Json);
        break;
      }
      case K.Entity:
        out.text(ENTITIES[node.name]!);
        break;
      case K.CharRef:
        out.text(String.fromCharCode(node.code));
        break;
      case K.TemplateInstance:
        render(node.tpl, node, out);
        break;
    }
  }
}

/*
 * Compiled templates. A template is parsed once per chunk; each of its elements then gets an `emit`
 * function that writes the element straight into its parent object with the record's substitution
 * values, doing what the builder above does for it (same keys, same order, same values) without
 * walking the nodes, building attribute lists or keeping a stack. Element shapes the compiled forms
 * do not cover (unnamed Data, a Data name from a substitution, several text pieces in a Data) go
 * through the builder; so does a BinXML value, into the element the compiled code holds open.
 */

type ElementNode = Extract<Node, { k: K.Element }>;
type Get = (inst: Instance) => Json;

/** The key an element gets in its parent: its name, or `Name_N` when a non-empty value holds the name. */
function keyFor(p: Obj, name: string): string {
  const cur = p[name];
  if (cur === undefined || isPlaceholder(cur)) return name;
  let slot = 1;
  while (`${name}_${slot}` in p) slot++;
  return `${name}_${slot}`;
}

/** A substitution's type (null past the array). */
function substType(types: Uint8Array, i: number): number {
  return i < types.length ? types[i]! : T_NULL;
}

/** A text or attribute piece's value; BinXML and null substitutions are null. */
function partGetter(p: Node): Get {
  switch (p.k) {
    case K.Value: {
      const v = p.v;
      return () => v;
    }
    case K.Subst: {
      const i = p.i;
      return (inst) => {
        const t = substType(inst.types, i);
        return t === T_NULL || t === T_BINXML ? null : (inst.values[i] as Json);
      };
    }
    default: {
      const v = partValue(p, NO_INSTANCE);
      return () => v;
    }
  }
}

/** The `#attributes` object of an element (attributes with a null value left out), or null. */
function compileAttrs(attrs: Attr[]): ((inst: Instance) => Obj | null) | null {
  if (attrs.length === 0) return null;
  const names = attrs.map((a) => a.name);
  const gets: Get[] = attrs.map((a) => (a.parts.length === 1 ? partGetter(a.parts[0]!) : (inst) => attrValue(a, inst)));
  if (names.includes("__proto__")) return null; // not met in practice: left to the builder
  return (inst) => {
    let kept: Obj | null = null;
    for (let i = 0; i < gets.length; i++) {
      const v = gets[i]!(inst);
      if (v !== null) (kept ??= {})[names[i]!] = v;
    }
    return kept;
  };
}

/** The builder's way, for one element into `p`. */
function viaBuilder(node: ElementNode): Emit {
  return (p, inst) => renderElement(node, inst, new JsonBuilder(p));
}

function isTextPart(n: Node): boolean {
  return n.k === K.Value || n.k === K.Subst || n.k === K.Entity || n.k === K.CharRef;
}

/** `<Data Name="X">…</Data>` with a literal name and at most one text piece; null for the other shapes. */
function compileNamedData(node: ElementNode): Emit | null {
  const key = literalDataName(node);
  if (key === null || key === "__proto__") return null;
  const ch = node.children;
  if (ch.length === 0)
    return (p) => {
      p[key] = "";
    };
  if (ch.length !== 1 || !isTextPart(ch[0]!)) return null;
  const part = ch[0]!;
  if (part.k === K.Subst) {
    const i = part.i;
    const slow = viaBuilder(node);
    return (p, inst) => {
      const t = substType(inst.types, i);
      if (t === T_BINXML) return slow(p, inst);
      const v = t === T_NULL ? null : (inst.values[i] as Json);
      p[key] = v === null || v === "" ? "" : inst.rough !== null && inst.rough[i] === 1 ? trimmedAll(v) : v;
    };
  }
  const v = partValue(part, NO_INSTANCE);
  const fixed = v === null || v === "" ? "" : trimmedAll(v);
  return (p) => {
    p[key] = Array.isArray(fixed) ? fixed.slice() : fixed;
  };
}

/** The literal name of a `<Data Name="X">`, or null (no Name, or one from a substitution). */
function literalDataName(node: ElementNode): string | null {
  const nameAttr = node.attrs.find((a) => a.name === "Name");
  if (nameAttr?.parts.length !== 1 || nameAttr.parts[0]!.k !== K.Value) return null;
  return textOf(nameAttr.parts[0]!.v);
}

/**
 * Per child of an element holding only child elements: true when it surely finds its name free in
 * the object (no earlier sibling can have written that key, nor `Name_N` of it, and it is no name the
 * object inherits), so that its compiled code skips the repeated-name check. Data children: false
 * (they do not use it).
 */
function namesFree(children: Node[]): boolean[] {
  const out: boolean[] = [];
  const written: string[] = []; // keys earlier siblings may write ("Name_" prefixes as "Name")
  let unknown = false; // an earlier Data sibling whose key is not literal
  for (const c of children as ElementNode[]) {
    if (c.name === "Data") {
      out.push(false);
      const key = literalDataName(c);
      if (key === null) unknown = true;
      else written.push(key);
      continue;
    }
    const name = c.name;
    let free = !unknown && !(name in Object.prototype) && !name.startsWith("#");
    for (let k = 0; free && k < written.length; k++) {
      const w = written[k]!;
      if (w === name || (name.charCodeAt(w.length) === 95 && name.startsWith(w))) free = false; // "w_…"
    }
    out.push(free);
    written.push(name);
  }
  return out;
}

/**
 * An element of a template as a function writing it into its parent (its child elements compiled
 * first). `fresh`: its name is surely free in the parent (`namesFree`).
 */
function compileElement(node: ElementNode, fresh = false): Emit {
  const ch = node.children;
  const onlyElements = ch.length > 0 && ch.every((c) => c.k === K.Element);
  const free = onlyElements ? namesFree(ch) : null;
  for (let j = 0; j < ch.length; j++) {
    const c = ch[j]!;
    if (c.k === K.Element) c.emit = compileElement(c, free !== null && free[j]!);
  }
  const name = node.name;
  if (name === "__proto__") return viaBuilder(node);
  if (name === "Data") return compileNamedData(node) ?? viaBuilder(node);
  const attrsOf = compileAttrs(node.attrs);
  if (attrsOf === null && node.attrs.length > 0) return viaBuilder(node);
  if (ch.length === 0)
    return (p, inst) => {
      const a = attrsOf === null ? null : attrsOf(inst);
      p[fresh ? name : keyFor(p, name)] = a === null ? null : { "#attributes": a };
    };
  if (ch.length === 1 && isTextPart(ch[0]!)) {
    // One text piece: the element's value, trimmed.
    const part = ch[0]!;
    const i = part.k === K.Subst ? part.i : -1;
    const get = partGetter(part);
    const slow = viaBuilder(node);
    return (p, inst) => {
      if (i >= 0 && substType(inst.types, i) === T_BINXML) return slow(p, inst);
      let v = get(inst);
      const a = attrsOf === null ? null : attrsOf(inst);
      const key = fresh ? name : keyFor(p, name);
      if (v === null || v === "") p[key] = a === null ? null : { "#attributes": a };
      else {
        if (i < 0 || (inst.rough !== null && inst.rough[i] === 1)) v = trimmedAll(v);
        p[key] = a === null ? v : { "#attributes": a, "#text": v };
      }
    };
  }
  if (onlyElements) {
    // Child elements only: an object holding them.
    const emits = ch.map((c) => (c as ElementNode).emit!);
    return (p, inst) => {
      const a = attrsOf === null ? null : attrsOf(inst);
      const obj: Obj = a === null ? {} : { "#attributes": a };
      p[fresh ? name : keyFor(p, name)] = obj;
      for (let i = 0; i < emits.length; i++) emits[i]!(obj, inst);
    };
  }
  // Mixed content (elements, text, BinXML values): the builder's rules, with the element held open.
  const general: Emit = (p, inst) => {
    const a = attrsOf === null ? null : attrsOf(inst);
    const key = fresh ? name : keyFor(p, name);
    p[key] = a === null ? null : { "#attributes": a };
    const out = new JsonBuilder(p);
    out.enter(p, key);
    render(ch, inst, out);
    out.close();
  };
  if (!ch.every((c) => c.k === K.Element || c.k === K.Subst)) return general;
  // Elements and substitutions (`<Event><System>…</System>%1</Event>`, %1 the event's data as BinXML):
  // when every substitution is null or BinXML made of compiled template instances, the element is
  // an object holding what they write (made at the first element, as the builder does); else `general`.
  const substs = ch.filter((c) => c.k === K.Subst).map((c) => c.i);
  return (p, inst) => {
    for (let k = 0; k < substs.length; k++) {
      const i = substs[k]!;
      const t = substType(inst.types, i);
      if (t !== T_NULL && (t !== T_BINXML || !compiledFragment(inst.values[i] as Node[]))) return general(p, inst);
    }
    const a = attrsOf === null ? null : attrsOf(inst);
    const key = fresh ? name : keyFor(p, name);
    let obj: Obj | null = a === null ? null : { "#attributes": a };
    p[key] = obj;
    for (let n = 0; n < ch.length; n++) {
      const c = ch[n]!;
      if (c.k === K.Element) {
        if (obj === null) p[key] = obj = {};
        c.emit!(obj, inst);
      } else if (c.k === K.Subst && substType(inst.types, c.i) === T_BINXML) {
        const frag = inst.values[c.i] as Node[];
        for (let f = 0; f < frag.length; f++) {
          const ti = frag[f] as Extract<Node, { k: K.TemplateInstance }>;
          for (let e = 0; e < ti.tpl.length; e++) {
            if (obj === null) p[key] = obj = {};
            (ti.tpl[e] as ElementNode).emit!(obj, ti);
          }
        }
      }
    }
  };
}

/** True when a fragment is only template instances whose templates are only (compiled) elements. */
function compiledFragment(nodes: Node[]): boolean {
  for (let f = 0; f < nodes.length; f++) {
    const n = nodes[f]!;
    if (n.k !== K.TemplateInstance) return false;
    for (let e = 0; e < n.tpl.length; e++) {
      const x = n.tpl[e]!;
      if (x.k !== K.Element || x.emit === null) return false;
    }
  }
  return true;
}

/** Compiles a template's elements (`emit` on each), once per template and chunk. */
export function compileTemplate(nodes: Node[]): void {
  for (const n of nodes) if (n.k === K.Element) n.emit = compileElement(n);
}

/** The evtx_dump JSON object of a record's parsed fragment. */
export function toJson(nodes: Node[]): Obj {
  if (compiledFragment(nodes)) {
    // Template instances of compiled elements (nearly every record): straight into the root.
    const root: Obj = {};
    for (let f = 0; f < nodes.length; f++) {
      const ti = nodes[f] as Extract<Node, { k: K.TemplateInstance }>;
      for (let e = 0; e < ti.tpl.length; e++) (ti.tpl[e] as ElementNode).emit!(root, ti);
    }
    return root;
  }
  const out = new JsonBuilder();
  render(nodes, NO_INSTANCE, out);
  return out.finish();
}
