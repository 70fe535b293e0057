/**
 * BinXML tokens into a small tree (`Node`): elements with attributes, literal values, substitution
 * slots, entity and character references, and template instances with their decoded substitution
 * values. Names and template definitions are addressed by their offset in the chunk; each chunk
 * keeps them in a `ChunkContext` so that a template is parsed once per chunk, not once per record.
 */
import {
  type Json,
  putText,
  readInline,
  readSized,
  T_BINXML,
  textMark,
  textRelease,
  textSince,
  textTop,
  units,
  utf16,
} from "./values.ts";

/** Pairs (value index, end of its text) of the template instances being read (see `templateInstance`). */
let spans = new Int32Array(1024);
let spanTop = 0;

export enum K {
  Element = 0,
  Value = 1,
  Subst = 2,
  Entity = 3,
  CharRef = 4,
  TemplateInstance = 5,
}

export interface Attr {
  name: string;
  parts: Node[];
}

/** Substitution values of a template instance: decoded values, or parsed nodes for BinXML ones. */
export type Values = (Json | Node[])[];

/**
 * An element of a template compiled into a function that writes it into its parent object
 * (src/events/evtx/to-json.ts, `compileTemplate`); null for elements outside templates.
 */
export type Emit = (parent: { [k: string]: Json }, inst: Instance) => void;

/**
 * A template instance's substitutions: each value's type and the value. `rough` marks (1) the text
 * values that may have white space to trim at an end: text read as bytes (values.ts `putText`) is
 * known from its bytes, other strings are marked; null when no value is marked (the common case).
 */
export interface Instance {
  types: Uint8Array;
  values: Values;
  rough: Uint8Array | null;
}

export type Node =
  | { k: K.Element; name: string; attrs: Attr[]; children: Node[]; emit: Emit | null }
  | { k: K.Value; v: Json }
  | { k: K.Subst; i: number; optional: boolean }
  | { k: K.Entity; name: string }
  | { k: K.CharRef; code: number }
  | { k: K.TemplateInstance; tpl: Node[]; types: Uint8Array; values: Values; rough: Uint8Array | null };

export class ChunkContext {
  readonly dv: DataView;
  readonly names = new Map<number, string>();
  readonly templates = new Map<number, Node[]>();
  readonly b: Buffer;
  /** The bytes as 16- and 32-bit units, for aligned strings (null when the platform or offset does not allow). */
  readonly u16: Uint16Array | null;
  readonly u32: Int32Array | null;
  /** `compile`: called once on each template after it is parsed (the renderer compiles it). */
  constructor(
    bytes: Uint8Array,
    private readonly compile?: (template: Node[]) => void,
  ) {
    this.b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const u = units(bytes);
    this.u16 = u === null ? null : u[0];
    this.u32 = u === null ? null : u[1];
  }

  nameAt(off: number): string {
    let s = this.names.get(off);
    if (s === undefined) {
      if (off + 8 > this.b.length) throw new Error(`name offset 0x${off.toString(16)} outside the chunk`);
      const n = this.dv.getUint16(off + 6, true);
      if (off + 8 + 2 * n > this.b.length) throw new Error(`name at 0x${off.toString(16)} runs past the chunk`);
      s = utf16(this.b, off + 8, n);
      this.names.set(off, s);
    }
    return s;
  }

  /** The template whose definition starts at `off` (next offset, GUID, data size, then tokens). */
  templateAt(off: number): Node[] {
    let t = this.templates.get(off);
    if (t === undefined) {
      if (off + 24 > this.b.length) throw new Error(`template offset 0x${off.toString(16)} outside the chunk`);
      const size = this.dv.getUint32(off + 20, true);
      const start = off + 24;
      if (start + size > this.b.length) throw new Error(`template at 0x${off.toString(16)} runs past the chunk`);
      try {
        t = new TokenReader(this, start, start + size, false).fragment();
      } catch (e) {
        throw new Error(`template defined at chunk offset 0x${off.toString(16)}: ${(e as Error).message}`);
      }
      this.compile?.(t);
      this.templates.set(off, t);
    }
    return t;
  }
}

const ENTITY_NAMES = new Set(["amp", "lt", "gt", "quot", "apos"]);

/** A name for an error message: quoted, control characters escaped, cut at 40 characters. */
function show(name: string): string {
  return JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
}

export class TokenReader {
  private readonly b: Buffer;
  private readonly dv: DataView;
  constructor(
    private readonly ctx: ChunkContext,
    public pos: number,
    private readonly end: number,
    /** Inside a BinXML substitution value, where open-start-element tokens carry no dependency id. */
    private readonly inSubstitution: boolean,
  ) {
    this.b = ctx.b;
    this.dv = ctx.dv;
  }

  private fail(msg: string): never {
    throw new Error(`${msg} at chunk offset 0x${this.pos.toString(16)}`);
  }

  private need(n: number): void {
    if (this.pos + n > this.end) this.fail(`BinXML truncated (needs ${n} more bytes)`);
  }

  private u16(): number {
    this.need(2);
    const v = this.dv.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  private u32(): number {
    this.need(4);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A name reference: an offset, and the name itself inline when the offset points right here. */
  private name(): string {
    const off = this.u32();
    if (off === this.pos) {
      this.need(8);
      const n = this.dv.getUint16(this.pos + 6, true);
      const s = this.ctx.nameAt(off);
      this.pos += 8 + 2 * n + 2;
      return s;
    }
    return this.ctx.nameAt(off);
  }

  /** A whole fragment: nodes until the end-of-stream token or the end of the data. */
  fragment(): Node[] {
    const out: Node[] = [];
    this.content(out, true);
    return out;
  }

  /** Content nodes until end of stream (top level) or the close-element token of the enclosing element. */
  private content(out: Node[], topLevel: boolean): void {
    while (this.pos < this.end) {
      const tok = this.b[this.pos]!;
      switch (tok & 0xbf) {
        case 0x00: // end of stream
          this.pos++;
          if (topLevel) return;
          this.fail("end of stream inside an element");
        case 0x0f: // fragment header: major, minor, flags
          this.need(4);
          this.pos += 4;
          break;
        case 0x01:
          out.push(this.element());
          break;
        case 0x04: // close element
          this.pos++;
          if (!topLevel) return;
          this.fail("close-element token without an open element");
        case 0x05:
        case 0x0d:
        case 0x0e:
        case 0x08:
        case 0x09:
          out.push(this.valueLike());
          break;
        case 0x07: {
          // CDATA section: its text as characters.
          this.pos++;
          const n = this.u16();
          this.need(2 * n);
          out.push({ k: K.Value, v: utf16(this.b, this.pos, n) });
          this.pos += 2 * n;
          break;
        }
        case 0x0a: // processing instruction target
          this.pos++;
          this.name();
          break;
        case 0x0b: {
          // processing instruction data
          this.pos++;
          const n = this.u16();
          this.need(2 * n);
          this.pos += 2 * n;
          break;
        }
        case 0x0c:
          out.push(this.templateInstance());
          break;
        default:
          this.fail(`unknown BinXML token 0x${tok.toString(16)}`);
      }
    }
    if (!topLevel) this.fail("element not closed before the end of its data");
  }

  /** A value, substitution, or reference token (element text or attribute value). */
  private valueLike(): Node {
    const tok = this.b[this.pos]! & 0xbf;
    this.pos++;
    switch (tok) {
      case 0x05: {
        this.need(1);
        const t = this.b[this.pos++]!;
        const [v, next] = readInline(this.b, this.dv, this.pos, t);
        if (next > this.end) this.fail("value runs past its fragment");
        this.pos = next;
        return { k: K.Value, v };
      }
      case 0x0d:
      case 0x0e: {
        const i = this.u16();
        this.need(1);
        this.pos++; // value type: the substitution array says the type of each value
        return { k: K.Subst, i, optional: tok === 0x0e };
      }
      case 0x08:
        return { k: K.CharRef, code: this.u16() };
      case 0x09: {
        const name = this.name();
        if (!ENTITY_NAMES.has(name)) this.fail(`unknown entity ${show(name)}`);
        return { k: K.Entity, name };
      }
      default:
        this.fail(`unexpected token 0x${tok.toString(16)}`);
    }
  }

  private element(): Node {
    const hasAttrs = (this.b[this.pos]! & 0x40) !== 0;
    this.pos++;
    if (!this.inSubstitution) this.u16(); // dependency id
    this.u32(); // data size
    const name = this.name();
    const attrs: Attr[] = [];
    if (hasAttrs) {
      this.u32(); // attribute list size
      while (this.pos < this.end && (this.b[this.pos]! & 0xbf) === 0x06) {
        this.pos++;
        const attrName = this.name();
        const parts: Node[] = [];
        for (;;) {
          this.need(1);
          const t = this.b[this.pos]! & 0xbf;
          if (t !== 0x05 && t !== 0x0d && t !== 0x0e && t !== 0x08 && t !== 0x09) break;
          parts.push(this.valueLike());
        }
        attrs.push({ name: attrName, parts });
      }
    }
    this.need(1);
    const close = this.b[this.pos]!;
    const children: Node[] = [];
    if (close === 0x02) {
      this.pos++;
      this.content(children, false);
    } else if (close === 0x03) {
      this.pos++;
    } else {
      this.fail(`expected the end of element ${show(name)}'s start tag, found token 0x${close.toString(16)}`);
    }
    return { k: K.Element, name, attrs, children, emit: null };
  }

  private templateInstance(): Node {
    this.pos++;
    this.need(1);
    this.pos++; // unknown
    this.u32(); // template id
    const defOff = this.u32();
    if (defOff === this.pos) {
      // The definition is inline: skip it (next offset 4, GUID 16, data size 4, data).
      this.need(24);
      const size = this.dv.getUint32(this.pos + 20, true);
      this.need(24 + size);
      this.pos += 24 + size;
    }
    const tpl = this.ctx.templateAt(defOff);
    const count = this.u32();
    this.need(4 * count);
    const desc = this.pos;
    const types = new Uint8Array(count);
    for (let i = 0; i < count; i++) types[i] = this.b[desc + 4 * i + 2]!;
    this.pos += 4 * count;
    const values: Values = new Array(count);
    let rough: Uint8Array | null = null;
    // Text values go to the scratch text (values.ts) and become substrings of one string at the end.
    // Their texts follow one another there (a nested instance gives its space back), so `spans` holds,
    // per such value, its index and where its text ends after `mark`.
    const mark = textMark();
    const span0 = spanTop;
    try {
      for (let i = 0; i < count; i++) {
        const size = this.dv.getUint16(desc + 4 * i, true);
        this.need(size);
        const t = types[i]!;
        if (t === T_BINXML) {
          values[i] = size === 0 ? [] : new TokenReader(this.ctx, this.pos, this.pos + size, true).fragment();
        } else {
          const put = putText(this.b, this.dv, this.pos, size, t, this.ctx.u16, this.ctx.u32);
          if (put !== 0) {
            if (spanTop + 2 > spans.length) {
              const more = new Int32Array(2 * spans.length);
              more.set(spans);
              spans = more;
            }
            spans[spanTop++] = i;
            spans[spanTop++] = textTop() - mark;
            if (put === 2) (rough ??= new Uint8Array(count))[i] = 1;
          } else {
            let v: Json = null;
            try {
              v = readSized(this.b, this.dv, this.pos, size, t);
            } catch (e) {
              this.fail(`substitution ${i}: ${(e as Error).message}`);
            }
            values[i] = v;
            if (typeof v === "string" || Array.isArray(v)) (rough ??= new Uint8Array(count))[i] = 1;
          }
        }
        this.pos += size;
      }
      if (spanTop > span0) {
        const all = textSince(mark);
        let start = 0;
        for (let k = span0; k < spanTop; k += 2) {
          const end = spans[k + 1]!;
          values[spans[k]!] = start === end ? "" : all.substring(start, end);
          start = end;
        }
      }
    } finally {
      spanTop = span0;
      textRelease(mark);
    }
    return { k: K.TemplateInstance, tpl, types, values, rough };
  }
}
