/**
 * A small BinXML writer for tests: builds records token by token (elements, attributes, values,
 * substitutions, entity and character references, CDATA, template instances with an inline
 * definition and a substitution array, nested BinXML values) straight into a 64 KiB chunk, so that
 * the reader can be checked on value types and shapes the regression files do not hold.
 */
import { crc32 } from "../../src/events/evtx/crc32.ts";

export type Content =
  | { el: string; attrs?: [string, Content[]][]; children?: Content[] }
  | { text: string }
  | { sub: number; type: number; optional?: boolean }
  | { entity: string }
  | { charRef: number }
  | { cdata: string };

export interface SubValue {
  type: number;
  /** Raw bytes of the value, or a BinXML fragment (type 0x21) given as content. */
  bytes?: Uint8Array;
  fragment?: Content[];
}

export class ChunkWriter {
  readonly b = new Uint8Array(65536);
  readonly dv = new DataView(this.b.buffer);
  pos = 512;
  private records = 0;

  u8(v: number): void {
    this.b[this.pos++] = v;
  }
  u16(v: number): void {
    this.dv.setUint16(this.pos, v, true);
    this.pos += 2;
  }
  u32(v: number): void {
    this.dv.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  utf16(s: string): void {
    for (let i = 0; i < s.length; i++) this.u16(s.charCodeAt(i));
  }
  bytes(x: Uint8Array): void {
    this.b.set(x, this.pos);
    this.pos += x.length;
  }

  /** A name defined inline (its offset is where it stands). */
  name(s: string): void {
    this.u32(this.pos + 4);
    this.u32(0);
    this.u16(0);
    this.u16(s.length);
    this.utf16(s);
    this.u16(0);
  }

  content(c: Content, inSubstitution = false): void {
    if ("el" in c) {
      const attrs = c.attrs ?? [];
      this.u8(attrs.length ? 0x41 : 0x01);
      if (!inSubstitution) this.u16(0xffff);
      const sizeAt = this.pos;
      this.u32(0);
      this.name(c.el);
      if (attrs.length) {
        const listAt = this.pos;
        this.u32(0);
        attrs.forEach(([n, parts], i) => {
          this.u8(i < attrs.length - 1 ? 0x46 : 0x06);
          this.name(n);
          for (const p of parts) this.content(p, inSubstitution);
        });
        this.dv.setUint32(listAt, this.pos - listAt - 4, true);
      }
      if (c.children && c.children.length) {
        this.u8(0x02);
        for (const ch of c.children) this.content(ch, inSubstitution);
        this.u8(0x04);
      } else {
        this.u8(0x03);
      }
      this.dv.setUint32(sizeAt, this.pos - sizeAt - 4, true);
    } else if ("text" in c) {
      this.u8(0x05);
      this.u8(0x01);
      this.u16(c.text.length);
      this.utf16(c.text);
    } else if ("sub" in c) {
      this.u8(c.optional ? 0x0e : 0x0d);
      this.u16(c.sub);
      this.u8(c.type);
    } else if ("entity" in c) {
      this.u8(0x09);
      this.name(c.entity);
    } else if ("charRef" in c) {
      this.u8(0x08);
      this.u16(c.charRef);
    } else {
      this.u8(0x07);
      this.u16(c.cdata.length);
      this.utf16(c.cdata);
    }
  }

  /** A fragment: header, a template instance (definition inline) with its values, end of stream. */
  templateFragment(template: Content[], values: SubValue[]): void {
    this.bytes(new Uint8Array([0x0f, 0x01, 0x01, 0x00]));
    this.u8(0x0c);
    this.u8(0x01);
    this.u32(0x1234);
    this.u32(this.pos + 4);
    this.u32(0); // next template
    this.bytes(new Uint8Array(16).fill(0xab)); // GUID
    const sizeAt = this.pos;
    this.u32(0);
    const start = this.pos;
    this.bytes(new Uint8Array([0x0f, 0x01, 0x01, 0x00]));
    for (const c of template) this.content(c);
    this.u8(0x00);
    this.dv.setUint32(sizeAt, this.pos - start, true);
    this.u32(values.length);
    const descAt = this.pos;
    this.pos += 4 * values.length;
    values.forEach((v, i) => {
      const at = this.pos;
      if (v.fragment) this.plainFragment(v.fragment);
      else this.bytes(v.bytes ?? new Uint8Array());
      this.dv.setUint16(descAt + 4 * i, this.pos - at, true);
      this.b[descAt + 4 * i + 2] = v.type;
    });
    this.u8(0x00);
  }

  /** A nested BinXML value of plain content (no template): its elements carry no dependency id. */
  private plainFragment(content: Content[]): void {
    this.bytes(new Uint8Array([0x0f, 0x01, 0x01, 0x00]));
    for (const c of content) this.content(c, true);
    this.u8(0x00);
  }

  /** One record holding a template instance. */
  record(template: Content[], values: SubValue[], id = this.records + 1): void {
    const start = this.pos;
    this.u32(0x2a2a);
    this.u32(0);
    this.dv.setBigUint64(this.pos, BigInt(id), true);
    this.pos += 8;
    this.dv.setBigUint64(this.pos, 133000000000000000n, true);
    this.pos += 8;
    this.templateFragment(template, values);
    while ((this.pos + 4 - start) % 8) this.u8(0);
    const size = this.pos + 4 - start;
    this.u32(size);
    this.dv.setUint32(start + 4, size, true);
    this.records++;
  }

  /** The finished chunk (header fields and checksums). */
  finish(): Uint8Array {
    const h = this.dv;
    this.b.set(new TextEncoder().encode("ElfChnk\0"), 0);
    h.setBigUint64(8, 1n, true);
    h.setBigUint64(16, BigInt(this.records), true);
    h.setBigUint64(24, 1n, true);
    h.setBigUint64(32, BigInt(this.records), true);
    h.setUint32(40, 128, true);
    h.setUint32(48, this.pos, true);
    h.setUint32(52, crc32(this.b.subarray(512, this.pos)), true);
    const hdr = new Uint8Array(504);
    hdr.set(this.b.subarray(0, 120), 0);
    hdr.set(this.b.subarray(128, 512), 120);
    h.setUint32(124, crc32(hdr), true);
    return this.b;
  }
}

/** Little-endian bytes of values, for substitution values. */
export const le = {
  i8: (v: number) => new Uint8Array(new Int8Array([v]).buffer),
  u8: (v: number) => new Uint8Array([v]),
  i16: (v: number) => new Uint8Array(new Int16Array([v]).buffer),
  u16: (...v: number[]) => new Uint8Array(new Uint16Array(v).buffer),
  i32: (v: number) => new Uint8Array(new Int32Array([v]).buffer),
  u32: (...v: number[]) => new Uint8Array(new Uint32Array(v).buffer),
  i64: (v: bigint) => new Uint8Array(new BigInt64Array([v]).buffer),
  u64: (...v: bigint[]) => new Uint8Array(new BigUint64Array(v).buffer),
  f32: (v: number) => new Uint8Array(new Float32Array([v]).buffer),
  f64: (v: number) => new Uint8Array(new Float64Array([v]).buffer),
  utf16: (s: string) => new Uint8Array(Buffer.from(s, "utf16le")),
  ansi: (s: string) => new Uint8Array(Buffer.from(s, "latin1")),
};
