/**
 * `baton wait` waits for what users reach: an app whose replicas are ready but whose port
 * the proxy cannot serve (another process holds it) is not converged.
 */
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, Project, TEST_APP } from "../helpers/cli.js";
import { eventually } from "../helpers/wait.js";

let project: Project | undefined;
let squatter: Server | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
  await new Promise<void>((done) => (squatter ? squatter.close(() => done()) : done()));
  squatter = undefined;
});

describe("baton wait", () => {
  it("is not satisfied while the proxy cannot serve the app's port", async () => {
    const port = await freePort();
    const held = createServer();
    squatter = held;
    await new Promise<void>((done) => held.listen(port, "127.0.0.1", () => done()));
    project = new Project(`apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    port: ${port}
`);
    const p = project;
    await p.ok("up", "--detach");
    await eventually(
      "the replica is ready and the proxy says why it cannot serve",
      async () => (await p.status()).apps[0],
      (app) => app?.ready === 1 && (app as { proxyError?: string }).proxyError !== undefined,
      30_000,
    );
    const wait = await p.run("wait", "--timeout", "2s");
    expect(wait.code).toBe(1);
    expect(wait.stderr).toContain("error[wait.timeout]");
    expect(wait.stderr).toMatch(/web 1\/1 converged \(proxy: .+\)/);

    // The port freed, the proxy takes it and wait is satisfied.
    await new Promise<void>((done) => held.close(() => done()));
    squatter = undefined;
    await p.ok("wait", "--timeout", "30s");
  });
});
