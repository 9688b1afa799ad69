/** Runs of consecutive free ports, for peers that number their instances' ports themselves. */
import { createServer, type Server } from "node:net";

function hold(port: number, host: string): Promise<Server | undefined> {
  return new Promise((res) => {
    const s = createServer();
    s.once("error", () => res(undefined));
    s.listen(port, host, () => res(s));
  });
}

/**
 * `count` first ports of runs of `length` consecutive free ports (PM2's `increment_var`
 * gives instance i the port base + i). All are held open while choosing, so none is
 * handed out twice; bounded in attempts.
 */
export async function freePortRuns(
  count: number,
  length: number,
  host = "127.0.0.1",
): Promise<number[]> {
  const held: Server[] = [];
  const bases: number[] = [];
  try {
    for (let attempt = 0; bases.length < count && attempt < count * 50; attempt++) {
      const first = await hold(0, host);
      if (first === undefined) continue;
      held.push(first);
      const base = (first.address() as { port: number }).port;
      if (base + length - 1 > 65_535) continue;
      let ok = true;
      for (let i = 1; i < length && ok; i++) {
        const next = await hold(base + i, host);
        if (next === undefined) ok = false;
        else held.push(next);
      }
      if (ok) bases.push(base);
    }
  } finally {
    await Promise.all(held.map((s) => new Promise((r) => s.close(r))));
  }
  if (bases.length < count) throw new Error(`found only ${bases.length} of ${count} port runs`);
  return bases;
}
