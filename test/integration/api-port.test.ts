import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, Project, TEST_APP } from "../helpers/cli.js";
import { eventually, processAlive } from "../helpers/wait.js";

let project: Project | undefined;
let blocker: Server | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
  await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
  blocker = undefined;
});

async function scrape(p: Project, port: number): Promise<number> {
  const token = readFileSync(join(p.stateDir, "api-token"), "utf8").trim();
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
    headers: { authorization: `Bearer ${token}` },
  });
  await res.text();
  return res.status;
}

/** SIGTERM stops the controller only; its apps keep serving. */
async function stopController(p: Project): Promise<void> {
  const pid = (await p.status()).controller.pid;
  process.kill(pid, "SIGTERM");
  await eventually(
    "the controller stops",
    () => processAlive(pid),
    (alive) => !alive,
  );
}

describe("baton up --api-port", () => {
  it("serves the API where Prometheus scrapes it, across controller restarts", async () => {
    const appPort = await freePort();
    const apiPort = await freePort();
    project = new Project(`apps:
  web:
    command: ["${process.execPath}", "${TEST_APP}"]
    port: ${appPort}
`);
    const p = project;
    const bad = await p.run("up", "--detach", "--api-port", "99999");
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--api-port must be a port number from 0 to 65535, found "99999"/);

    await p.ok("up", "--detach", "--api-port", String(apiPort));
    expect((await p.status()).controller.api).toBe(`http://127.0.0.1:${apiPort}`);
    expect(await scrape(p, apiPort)).toBe(200);

    // A controller started again without the flag listens on the same port.
    await stopController(p);
    await p.ok("up", "--detach");
    expect((await p.status()).controller.api).toBe(`http://127.0.0.1:${apiPort}`);
    expect(await scrape(p, apiPort)).toBe(200);

    // A port in use: a clear error, and the remembered port is kept.
    await stopController(p);
    const busy = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker!.listen(busy, "127.0.0.1", resolve));
    const taken = await p.run("up", "--api-port", String(busy));
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain(
      `the API cannot listen on 127.0.0.1:${busy}: the port is in use`,
    );
    expect(taken.stderr).toMatch(/--api-port 0/);
    expect(readFileSync(join(p.stateDir, "api-port"), "utf8").trim()).toBe(String(apiPort));

    // 0 forgets it: any free port again.
    await p.ok("up", "--detach", "--api-port", "0");
    expect((await p.status()).controller.api).not.toBe(`http://127.0.0.1:${apiPort}`);
  });
});
