import { spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { CLI, freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { eventually } from "../helpers/wait.js";

let project: Project | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});

const web = (s: StatusJson) => s.apps.find((a) => a.name === "web")!;

describe("logs", () => {
  it("show each replica's stdout and stderr, and follow replacements", async () => {
    const port = await freePort();
    project = new Project(`apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    replicas: 2
    port: ${port}
`);
    await project.ok("up", "--detach");
    await project.ok("wait");
    const [a, b] = web(await project.status()).replicas;
    const logs = await eventually(
      "both replicas have logged",
      async () => (await project!.ok("logs", "web")).stdout,
      (out) => out.includes(`${a!.id} stderr works`) && out.includes(`${b!.id} stderr works`),
    );
    expect(logs).toContain(`${a!.id} | ${a!.id} listening on ${a!.port}`);

    const follower = spawn(process.execPath, [CLI, "logs", "web", "-f"], {
      cwd: project.dir,
      env: { ...process.env, NO_COLOR: "1" },
    });
    let followed = "";
    follower.stdout.on("data", (chunk: Buffer) => {
      followed += chunk.toString();
    });
    try {
      // Only once the follower is up does the replacement come: it must be followed, not read.
      await eventually(
        "the follower prints the running replicas",
        () => followed,
        (out) => out.includes(`${b!.id} stderr works`),
      );
      process.kill(a!.pid!, "SIGKILL");
      const replacement = await eventually(
        "a replacement runs",
        async () =>
          web(await project!.status()).replicas.find((r) => r.id !== a!.id && r.id !== b!.id),
        (r) => r?.ready === true,
      );
      await eventually(
        "the follower prints the replacement's output",
        () => followed,
        (out) => out.includes(`${replacement!.id} listening on`),
      );
    } finally {
      follower.kill("SIGINT");
    }
  });
});
