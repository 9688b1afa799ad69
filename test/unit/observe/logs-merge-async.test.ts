import { describe, expect, it } from "vitest";
import { type LogRecord, mergeByTime, mergeByTimeAsync } from "../../../src/observe/logs/index.js";

const record = (source: string, n: number, at: number): LogRecord => ({
  at,
  source,
  line: `${source} ${n}`,
});

/** A source read as it goes, a turn of the event loop per record, noting when it is closed. */
function source(records: readonly LogRecord[], closed: string[], failAfter?: number) {
  return (async function* () {
    try {
      for (const [i, r] of records.entries()) {
        if (i === failAfter) throw new Error(`${r.source} broke`);
        await new Promise((resolve) => setImmediate(resolve));
        yield r;
      }
    } finally {
      closed.push(records[0]?.source ?? "empty");
    }
  })();
}

async function gathered(records: AsyncIterable<LogRecord>): Promise<LogRecord[]> {
  const all: LogRecord[] = [];
  for await (const r of records) all.push(r);
  return all;
}

describe("interleaving sources by time as they are read", () => {
  it("gives what merging the whole lists gives: ties and steps back included", async () => {
    // A fixed pseudo-random walk: times that tie, step back and jump, per source.
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 20; round++) {
      const lists = Array.from({ length: 1 + random(5) }, (_, s) => {
        let at = random(50);
        return Array.from({ length: random(40) }, (_, n) => {
          at += random(10) - 2;
          return record(`s${s}`, n, at);
        });
      });
      const closed: string[] = [];
      const merged = await gathered(mergeByTimeAsync(lists.map((l) => source(l, closed))));
      expect(merged).toEqual(mergeByTime(lists));
      expect(closed).toHaveLength(lists.length);
    }
    expect(await gathered(mergeByTimeAsync([]))).toEqual([]);
  });

  it("keeps a source's own order and, of equal times, the earlier source first", async () => {
    const a = [record("a", 1, 10), record("a", 2, 30), record("a", 3, 20)];
    const b = [record("b", 1, 10), record("b", 2, 25)];
    const merged = await gathered(mergeByTimeAsync([source(a, []), source(b, [])]));
    expect(merged.map((r) => r.line)).toEqual(["a 1", "b 1", "b 2", "a 2", "a 3"]);
  });

  it("reads a record ahead per source only, and closes the sources when the reader stops", async () => {
    const taken: string[] = [];
    const closed: string[] = [];
    const counting = (name: string) =>
      (async function* () {
        try {
          for (let n = 0; ; n++) {
            taken.push(`${name} ${n}`);
            yield record(name, n, n);
          }
        } finally {
          closed.push(name);
        }
      })();
    const seen: string[] = [];
    for await (const r of mergeByTimeAsync([counting("a"), counting("b")])) {
      seen.push(r.line);
      if (seen.length === 5) break;
    }
    expect(seen).toEqual(["a 0", "b 0", "a 1", "b 1", "a 2"]);
    // Endless sources: only what was printed and one record ahead of each were read.
    expect(taken.length).toBeLessThanOrEqual(seen.length + 2);
    expect(closed.sort()).toEqual(["a", "b"]);
  });

  it("passes a source's error on and closes the other sources", async () => {
    const closed: string[] = [];
    const good = Array.from({ length: 10 }, (_, n) => record("good", n, n));
    const bad = Array.from({ length: 10 }, (_, n) => record("bad", n, n));
    await expect(
      gathered(mergeByTimeAsync([source(good, closed), source(bad, closed, 3)])),
    ).rejects.toThrow("bad broke");
    expect(closed.sort()).toEqual(["bad", "good"]);
  });
});
