import { dirname } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, Project, TEST_APP } from "../helpers/cli.js";
import { ensureDocker, nodeBaseImage, removeTestContainers } from "../helpers/docker.js";
import { eventually } from "../helpers/wait.js";

// The real engine, or a failure that says what to install: never a skipped suite.
await ensureDocker();
const image = await nodeBaseImage();

let project: Project | undefined;
afterEach(async () => {
  if (project !== undefined) {
    await project.cleanup();
    await removeTestContainers(`baton.state=${project.stateDir}`);
  }
  project = undefined;
});

interface SeriesAnswer {
  series: { labels: Record<string, string>; samples: [number, number][] }[];
}

describe("metrics of container replicas", () => {
  it("samples CPU and memory of docker replicas through the engine", async () => {
    const port = await freePort();
    project = new Project(`apps:
  web:
    runtime: docker
    image: ${image}
    command: ["${process.execPath}", "/app/${TEST_APP.split("/").at(-1)}"]
    volumes: ["${dirname(TEST_APP)}:/app:ro"]
    containerPort: 8080
    env: { HOST: 0.0.0.0 }
    replicas: 1
    port: ${port}
    health:
      readiness: { http: /healthz, interval: 200ms }
`);
    await project.ok("up", "--detach");
    await project.ok("wait", "--timeout", "60s");
    const p = project;
    const replica = (await p.status()).apps[0]?.replicas[0];
    expect(replica?.runtime).toBe("docker");
    const query = async (name: string): Promise<SeriesAnswer> =>
      JSON.parse((await p.ok("metrics", name, "--app", "web", "--since", "1m", "--json")).stdout);
    const memory = await eventually(
      "the container replica's memory is sampled",
      () => query("baton_replica_memory_bytes"),
      (a) => a.series.some((s) => s.labels.replica === replica?.id),
      30_000,
    );
    expect(memory.series[0]?.samples.at(-1)?.[1]).toBeGreaterThan(0);
    const ready = await query("baton_replica_ready");
    expect(ready.series.find((s) => s.labels.replica === replica?.id)?.samples.at(-1)?.[1]).toBe(1);
  }, 120_000);
});
