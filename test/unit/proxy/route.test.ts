import { describe, expect, it } from "vitest";
import { Route } from "../../../src/apps/proxy/route.js";

const spec = (id: string, port = 1000) => ({ id, host: "127.0.0.1", port });

describe("Route", () => {
  it("rotates picks over backends with the same load", () => {
    const route = new Route("web");
    route.setBackends([spec("a"), spec("b"), spec("c")]);
    const picks = Array.from({ length: 6 }, () => route.pick(null, 0)?.id);
    expect(picks).toEqual(["a", "b", "c", "a", "b", "c"]);
  });

  it("prefers the backend with the fewest requests in flight", () => {
    const route = new Route("web");
    route.setBackends([spec("a"), spec("b")]);
    route.pool[0]?.begin();
    route.pool[0]?.begin();
    route.pool[1]?.begin();
    expect(route.pick(null, 0)?.id).toBe("b");
    expect(route.pick(null, 0)?.id).toBe("b");
  });

  it("picks a backend that recently refused a connect only when nothing else is left", () => {
    const route = new Route("web");
    route.setBackends([spec("a"), spec("b")]);
    route.pool[0]?.failed(1_000);
    expect(route.pick(null, 1_001)?.id).toBe("b");
    expect(route.pick(null, 1_002)?.id).toBe("b");
    const b = route.pool[1];
    expect(route.pick(b === undefined ? null : [b], 1_003)?.id).toBe("a");
  });

  it("keeps the counters of a backend that stays and drains one that leaves", () => {
    const route = new Route("web");
    route.setBackends([spec("a"), spec("b")]);
    const [a, b] = route.pool;
    a?.begin();
    b?.begin();
    route.setBackends([spec("a"), spec("c")]);
    expect(route.pool.map((x) => x.id)).toEqual(["a", "c"]);
    expect(route.pool[0]).toBe(a);
    expect([...route.draining].map((x) => x.id)).toEqual(["b"]);
    expect(b?.inPool).toBe(false);
    b?.end();
    route.sweepDraining();
    expect(route.draining.size).toBe(0);
  });

  it("takes a draining backend back into the pool when it returns with the same address", () => {
    const route = new Route("web");
    route.setBackends([spec("a")]);
    const a = route.pool[0];
    a?.begin();
    route.setBackends([]);
    route.setBackends([spec("a")]);
    expect(route.pool[0]).toBe(a);
    expect(a?.inPool).toBe(true);
    expect(route.draining.size).toBe(0);
  });

  it("treats a backend id with a new address as a new backend", () => {
    const route = new Route("web");
    route.setBackends([spec("a", 1000)]);
    const old = route.pool[0];
    old?.begin();
    route.setBackends([spec("a", 2000)]);
    expect(route.pool[0]).not.toBe(old);
    expect(route.pool[0]?.port).toBe(2000);
    expect([...route.draining]).toEqual([old]);
  });

  it("wakes sessions waiting for a backend when one arrives", () => {
    const route = new Route("web");
    let woken = 0;
    const cancel = route.waitForChange(() => woken++, 60_000);
    route.setBackends([]);
    expect(woken).toBe(0);
    route.setBackends([spec("a")]);
    expect(woken).toBe(1);
    cancel();
  });

  it("resolves a drain wait when the last request in flight ends", async () => {
    const route = new Route("web");
    route.setBackends([spec("a")]);
    const a = route.pool[0];
    a?.begin();
    const waiting = a?.waitIdle(60_000);
    a?.end();
    await expect(waiting).resolves.toBe(true);
    a?.begin();
    await expect(a?.waitIdle(1)).resolves.toBe(false);
  });
});
