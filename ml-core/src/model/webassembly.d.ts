/**
 * The part of the WebAssembly JavaScript API that wasm-walk.ts uses. Node has had it since 8; the
 * @types/node of our Node 20 floor does not declare it, and lib.dom would declare a browser.
 */
declare namespace WebAssembly {
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
  }
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}
