import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, ensureDocker, nodeBaseImage, removeTestContainers } from "../helpers/docker.js";

// The harness the Docker runtime's tests stand on: a daemon, and a locally built image that
// runs this machine's node.
describe("docker test harness", () => {
  const owner = `baton.harness=${process.pid}-${randomBytes(4).toString("hex")}`;
  const labels = ["--label", "baton.test=1", "--label", owner];
  let image = "";

  beforeAll(async () => {
    let started = performance.now();
    await ensureDocker();
    const dockerMs = performance.now() - started;
    started = performance.now();
    image = await nodeBaseImage();
    const firstMs = performance.now() - started;
    started = performance.now();
    expect(await nodeBaseImage()).toBe(image);
    const memoMs = performance.now() - started;
    console.log(
      `ensureDocker ${dockerMs.toFixed(0)} ms; nodeBaseImage ${firstMs.toFixed(0)} ms ` +
        `(build or lookup), then ${memoMs.toFixed(2)} ms memoized; ${image}`,
    );
  }, 180_000);

  afterAll(async () => {
    await removeTestContainers(owner);
  });

  it("names the image after node's version and files", () => {
    expect(image).toMatch(/^baton-test\/node-base:[0-9a-f]{12}$/);
  });

  it("runs this node inside the image", async () => {
    const out = await docker([
      "run",
      "--rm",
      ...labels,
      image,
      process.execPath,
      "-e",
      "console.log(process.version)",
    ]);
    expect(out.trim()).toBe(process.version);
  });

  it("runs it locked down: read-only, no capabilities, no new privileges, as nobody", async () => {
    const out = await docker([
      "run",
      "--rm",
      ...labels,
      "--read-only",
      "--cap-drop",
      "ALL",
      "--security-opt",
      "no-new-privileges",
      "--user",
      "65534:65534",
      image,
      process.execPath,
      "-e",
      "console.log(process.version, process.getuid(), process.getgid())",
    ]);
    expect(out.trim()).toBe(`${process.version} 65534 65534`);
  });

  it("has busybox's /bin/sh, a world-writable /tmp and nobody in /etc/passwd", async () => {
    const out = await docker([
      "run",
      "--rm",
      ...labels,
      image,
      "/bin/sh",
      "-c",
      "ls -ld /tmp; cat /etc/passwd; echo ok",
    ]);
    expect(out).toMatch(/^drwxrwxrwt/);
    expect(out).toContain("nobody:x:65534:65534:");
    expect(out.trim().endsWith("ok")).toBe(true);
  });

  it("removeTestContainers removes the containers carrying the label", async () => {
    const id = (await docker(["run", "-d", ...labels, image, "/bin/sleep", "300"])).trim();
    expect(await docker(["ps", "-q", "--no-trunc", "--filter", `label=${owner}`])).toContain(id);
    await removeTestContainers(owner);
    expect((await docker(["ps", "-aq", "--filter", `label=${owner}`])).trim()).toBe("");
  });
});
