import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { docker, ensureDocker, nodeBaseImage, removeTestContainers } from "../helpers/docker.js";
import { get } from "../helpers/http.js";
import { ensureRegistry, REGISTRY } from "../helpers/registry.js";

// The real engine and registry, or a failure that says what to install: never a skipped suite.
await ensureDocker();
await ensureRegistry();
const base = await nodeBaseImage();

/** Every image this file builds carries it: cleanup removes exactly those. */
const RUN = randomBytes(4).toString("hex");
const NODE = process.execPath;
const APP = readFileSync(TEST_APP, "utf8");

let project: Project | undefined;
afterEach(async () => {
  if (project !== undefined) {
    await project.cleanup();
    await removeTestContainers(`baton.state=${project.stateDir}`);
  }
  project = undefined;
});
afterAll(async () => {
  const images = (await docker(["images", "-q", "--filter", `label=baton.test.run=${RUN}`]))
    .split("\n")
    .filter(Boolean);
  for (const id of new Set(images)) await docker(["rmi", "-f", id]).catch(() => undefined);
});

/** `docker build` of a Dockerfile beside the test app, labelled for cleanup. */
async function buildImage(tag: string, dockerfile: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "baton-image-"));
  try {
    writeFileSync(join(dir, "Dockerfile"), dockerfile);
    writeFileSync(join(dir, "app.cjs"), APP);
    await new Promise<void>((done, fail) => {
      execFile(
        "docker",
        ["build", "-q", "--label", `baton.test.run=${RUN}`, "-t", tag, dir],
        // The classic builder: the same on Debian's 20.10 client and on newer ones without buildx.
        { env: { ...process.env, DOCKER_BUILDKIT: "0" } },
        (error, _stdout, stderr) =>
          error ? fail(new Error(`docker build ${tag} failed: ${stderr}`)) : done(),
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const web = (s: StatusJson) => s.apps.find((a) => a.name === "web")!;

describe("a container app without command", () => {
  it("runs its image's CMD behind the proxy, and that CMD is part of its revision", async () => {
    const tag = `baton-test/cmd-${RUN}:latest`;
    await buildImage(
      tag,
      `FROM ${base}\nCOPY app.cjs /app/app.cjs\nENV GREETING=v1\nCMD ["${NODE}", "/app/app.cjs"]\n`,
    );
    const port = await freePort();
    project = new Project(`apps:
  web:
    runtime: docker
    image: ${tag}
    env: { HOST: 0.0.0.0 }
    port: ${port}
    health:
      readiness: { http: /healthz, interval: 200ms }
`);
    const p = project;
    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "60s");
    expect((await get(port)).body).toMatch(/^v1 from web-/);

    // What runs is what the plan compares: nothing to change while the image stays.
    const plan = JSON.parse((await p.ok("plan", "--json")).stdout) as {
      steps: { type: string }[];
    };
    expect(plan.steps.map((s) => s.type)).toEqual(["unchanged"]);

    // The same tag, another CMD: the app's revision changes with it and it rolls out.
    const before = web(await p.status()).revision;
    await buildImage(
      tag,
      `FROM ${base}\nCOPY app.cjs /app/app.cjs\nCMD ["/bin/sh", "-c", "GREETING=v2 exec ${NODE} /app/app.cjs"]\n`,
    );
    expect((await p.ok("plan")).stdout).toMatch(/replace\s+app\/web/);
    await p.ok("apply", "--wait");
    expect(web(await p.status()).revision).not.toBe(before);
    expect((await get(port)).body).toMatch(/^v2 from web-/);
  });

  it("gives command: to the image's ENTRYPOINT as its arguments", async () => {
    const tag = `baton-test/entrypoint-${RUN}:latest`;
    await buildImage(
      tag,
      `FROM ${base}\nCOPY app.cjs /app/app.cjs\nENTRYPOINT ["${NODE}"]\nCMD ["/no/such/script.js"]\n`,
    );
    const port = await freePort();
    project = new Project(`apps:
  web:
    runtime: docker
    image: ${tag}
    command: ["/app/app.cjs"]
    env: { HOST: 0.0.0.0, GREETING: args }
    port: ${port}
    health:
      readiness: { http: /healthz, interval: 200ms }
`);
    await project.ok("up", "--detach");
    await project.ok("wait", "--timeout", "60s");
    expect((await get(port)).body).toMatch(/^args from web-/);
  });

  it("built with build: runs the CMD of its Dockerfile", async () => {
    const port = await freePort();
    project = new Project(
      `project: cmdtest-${RUN}
registry: ${REGISTRY}
apps:
  web:
    build:
      context: ./web
      labels: { baton.test.run: "${RUN}" }
    env: { HOST: 0.0.0.0 }
    port: ${port}
    health:
      readiness: { http: /healthz, interval: 200ms }
`,
      {
        "web/Dockerfile": `FROM ${base}\nCOPY app.cjs /app/app.cjs\nENV GREETING=built\nCMD ["${NODE}", "/app/app.cjs"]\n`,
        "web/app.cjs": APP,
      },
    );
    await project.ok("up", "--detach");
    await project.ok("wait", "--timeout", "90s");
    expect((await get(port)).body).toMatch(/^built from web-/);
  });
});

describe("a command run by a shell", () => {
  it("expands $PORT itself: sh -c serves busybox httpd on its PORT, as a process", async () => {
    const port = await freePort();
    project = new Project(
      `apps:
  web:
    cwd: ./site
    command: ["sh", "-c", "exec busybox httpd -f -p $PORT -h ."]
    replicas: 2
    port: ${port}
`,
      { "site/index.html": "served by httpd\n" },
    );
    await project.ok("up", "--detach");
    await project.ok("wait", "--timeout", "30s");
    expect((await get(port, "/index.html")).body).toBe("served by httpd\n");
  });

  it("expands $PORT itself in a container", async () => {
    const port = await freePort();
    project = new Project(`apps:
  web:
    runtime: docker
    image: ${base}
    command: ["sh", "-c", "echo in a container > /tmp/index.html && exec busybox httpd -f -p $PORT -h /tmp"]
    stopGrace: 1s
    port: ${port}
`);
    await project.ok("up", "--detach");
    await project.ok("wait", "--timeout", "60s");
    expect((await get(port, "/index.html")).body).toBe("in a container\n");
  });
});
