/**
 * A set of line ids that costs 12 bytes a slot instead of a JavaScript string each.
 *
 * It keeps 95 bits of each (hex) id, the first 96 with one bit spent on marking a slot used, in
 * open-addressed typed arrays kept at most three-quarters full. The chance that two distinct lines of a
 * 5-million-row file collide is about 3e-16, and the set holds 5 million ids in at most 200 MB (16 to 32
 * bytes a line with the table's headroom) where a `Set<string>` needs about 400 MB.
 */
export class LineIdSet {
  private a: Uint32Array;
  private b: Uint32Array;
  private c: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1 << 16) {
    const capacity = 2 ** Math.ceil(Math.log2(Math.max(16, initialCapacity)));
    this.a = new Uint32Array(capacity);
    this.b = new Uint32Array(capacity);
    this.c = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Adds the id; returns false when it was already present. */
  add(id: string): boolean {
    // Bit 0 of `a` is forced on so that 0 can mark an empty slot.
    const x = (Number.parseInt(id.slice(0, 8), 16) | 1) >>> 0;
    const y = Number.parseInt(id.slice(8, 16), 16) >>> 0;
    const z = Number.parseInt(id.slice(16, 24), 16) >>> 0;
    let slot = (y ^ z) & this.mask;
    for (;;) {
      const existing = this.a[slot]!;
      if (existing === 0) break;
      if (existing === x && this.b[slot] === y && this.c[slot] === z) return false;
      slot = (slot + 1) & this.mask;
    }
    this.a[slot] = x;
    this.b[slot] = y;
    this.c[slot] = z;
    this.count++;
    if (this.count * 4 > this.a.length * 3) this.grow();
    return true;
  }

  private grow(): void {
    const [a, b, c] = [this.a, this.b, this.c];
    const capacity = a.length * 2;
    this.a = new Uint32Array(capacity);
    this.b = new Uint32Array(capacity);
    this.c = new Uint32Array(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < a.length; i++) {
      const x = a[i]!;
      if (x === 0) continue;
      let slot = (b[i]! ^ c[i]!) & this.mask;
      while (this.a[slot] !== 0) slot = (slot + 1) & this.mask;
      this.a[slot] = x;
      this.b[slot] = b[i]!;
      this.c[slot] = c[i]!;
    }
  }
}
