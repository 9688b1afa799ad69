/**
 * Replaces a step's secret values by *** in what its command prints, as the output streams
 * by: an occurrence split between two chunks is still found, because the end of a chunk
 * that could begin a secret is held back until the next chunk (or the end) says.
 */

/** Shorter values would mask ordinary words (`true`, `1`) all over the log. */
export const MIN_MASKED_LENGTH = 4;
const MASK = Buffer.from("***");

export class SecretMasker {
  private readonly secrets: readonly Buffer[];
  private readonly longest: number;
  private pending: Buffer = Buffer.alloc(0);

  constructor(values: readonly string[]) {
    this.secrets = [...new Set(values)]
      .filter((v) => v.length >= MIN_MASKED_LENGTH)
      .map((v) => Buffer.from(v))
      .sort((a, b) => b.length - a.length);
    this.longest = this.secrets[0]?.length ?? 0;
  }

  /** Whether there is anything to mask at all (else output may go straight to the log). */
  get active(): boolean {
    return this.secrets.length > 0;
  }

  /** The part of everything written so far that can be shown now, masked. */
  write(chunk: Buffer): Buffer {
    const data = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Buffer[] = [];
    let pos = 0;
    for (;;) {
      const found = this.earliest(data, pos);
      if (found === undefined) break;
      out.push(data.subarray(pos, found.at), MASK);
      pos = found.at + found.length;
    }
    const hold = this.heldFrom(data, pos);
    out.push(data.subarray(pos, hold));
    this.pending = Buffer.from(data.subarray(hold));
    return Buffer.concat(out);
  }

  /** What was held back: at the end it can no longer become a secret. */
  end(): Buffer {
    const rest = this.pending;
    this.pending = Buffer.alloc(0);
    return rest;
  }

  /** The first occurrence of any secret at or after `from`; the longest when several start there. */
  private earliest(data: Buffer, from: number): { at: number; length: number } | undefined {
    let best: { at: number; length: number } | undefined;
    for (const secret of this.secrets) {
      const at = data.indexOf(secret, from);
      if (at >= 0 && (best === undefined || at < best.at)) best = { at, length: secret.length };
    }
    return best;
  }

  /** Where the tail that could still begin a secret starts (data.length when none can). */
  private heldFrom(data: Buffer, from: number): number {
    for (let start = Math.max(from, data.length - this.longest + 1); start < data.length; start++) {
      const tail = data.subarray(start);
      if (
        this.secrets.some((s) => s.length > tail.length && s.subarray(0, tail.length).equals(tail))
      ) {
        return start;
      }
    }
    return data.length;
  }
}
