/**
 * The WebAssembly bytecode the walks are emitted in (core specification 2.0, binary format): the
 * few instructions they use and a module of walks over one imported memory. Emitted by hand
 * rather than by an assembler library: each walk is one function whose constants change with the
 * model, and the assemblers on npm (wabt, binaryen) compile text in a multi-megabyte module.
 */

export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;
const EMPTY_BLOCK = 0x40;
/** A memory page's bytes. */
export const PAGE = 65536;

/** `n` rounded up to a cache line (64 bytes): where each of a walk's tables starts in its memory. */
export const align = (n: number): number => Math.ceil(n / 64) * 64;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export const vec = (items: readonly (readonly number[])[]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, bytes: readonly number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const name = (s: string): number[] => vec([...Buffer.from(s)].map((b) => [b]));
/** A SIMD instruction: the 0xfd prefix, then its number. */
const simd = (n: number, ...immediates: number[]): number[] => [0xfd, ...uleb(n), ...immediates];

/** The instructions the walks use. Memory operands: alignment (log2) then the constant offset. */
export const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (n: number) => [0x41, ...sleb(n)],
  /** The float's eight bytes as they are, so the constant is the value to the last bit. */
  f64: (x: number) => [0x44, ...new Uint8Array(Float64Array.of(x).buffer)],
  load: (offset: number) => [0x28, 2, ...uleb(offset)],
  load8u: (offset: number) => [0x2d, 0, ...uleb(offset)],
  f64load: (offset: number) => [0x2b, 3, ...uleb(offset)],
  f64store: (offset: number) => [0x39, 3, ...uleb(offset)],
  add: [0x6a],
  mul: [0x6c],
  and: [0x71],
  or: [0x72],
  shl: [0x74],
  shrS: [0x75],
  shrU: [0x76],
  gtS: [0x4a],
  geS: [0x4e],
  eqz: [0x45],
  ctz: [0x68],
  i64ctz: [0x7a],
  wrap: [0xa7],
  f64add: [0xa0],
  v128load: (offset: number) => simd(0x00, 4, ...uleb(offset)),
  /** A 128-bit constant of all ones. */
  v128ones: simd(0x0c, ...new Array<number>(16).fill(0xff)),
  v128and: simd(0x4e),
  i32x4lane: (lane: number) => simd(0x1b, lane),
  i64x2lane: (lane: number) => simd(0x1d, lane),
  block: [0x02, EMPTY_BLOCK],
  loop: [0x03, EMPTY_BLOCK],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
};

/** A function body's code, and `emit`, which appends instructions to it. */
export function emitter(): { code: number[]; emit: (...parts: readonly (readonly number[])[]) => void } {
  const code: number[] = [];
  return {
    code,
    emit: (...parts) => {
      for (const p of parts) code.push(...p);
    },
  };
}

/**
 * A module that imports memory `m.memory` of `pages` pages and exports `functions` (bodies: locals
 * then code) as `walk0`, `walk1`, …, each taking `params` i32 parameters and returning nothing.
 */
export function walksModule(params: number, functions: readonly (readonly number[])[], pages: number): Uint8Array {
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec([[0x60, ...vec(Array.from({ length: params }, () => [I32])), ...vec([])]])),
    ...section(2, vec([[...name("m"), ...name("memory"), 0x02, 0x00, ...uleb(pages)]])),
    ...section(3, vec(functions.map(() => [0]))),
    ...section(7, vec(functions.map((_, i) => [...name(`walk${i}`), 0x00, i]))),
    ...section(10, vec(functions.map((f) => [...uleb(f.length), ...f]))),
  ];
  return new Uint8Array(bytes);
}
