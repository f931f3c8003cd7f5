/**
 * A small seeded generator (xoshiro128**) whose whole state is four integers, so a checkpoint can
 * save it and a resumed run draws exactly the numbers an uninterrupted run would have drawn.
 */
export class Random {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number | readonly number[]) {
    if (typeof seed === "number") {
      // splitmix32 spreads a small seed over the 128-bit state (an all-zero state is a fixed point).
      let x = seed >>> 0;
      const next = (): number => {
        x = (x + 0x9e3779b9) >>> 0;
        let z = x;
        z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
        z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
        return (z ^ (z >>> 16)) >>> 0;
      };
      this.s0 = next();
      this.s1 = next();
      this.s2 = next();
      this.s3 = next();
    } else {
      if (seed.length !== 4 || !seed.every((s) => Number.isInteger(s))) throw new RangeError(`a generator state is four integers, got ${JSON.stringify(seed)}`);
      [this.s0, this.s1, this.s2, this.s3] = seed as readonly [number, number, number, number];
    }
  }

  get state(): number[] {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** `k` distinct integers from [0, n), sorted ascending (partial Fisher–Yates). */
  sample(n: number, k: number): Uint32Array {
    const pool = new Uint32Array(n);
    for (let i = 0; i < n; i++) pool[i] = i;
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const tmp = pool[i]!;
      pool[i] = pool[j]!;
      pool[j] = tmp;
    }
    return pool.slice(0, k).sort();
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
