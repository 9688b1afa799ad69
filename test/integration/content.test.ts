/**
 * A definition reaches the controller with its files as content-addressed blobs: the blob
 * doors refuse what does not hash to its name, and an apply naming a folder it did not send
 * is refused, naming the folder, instead of the controller reading it from its own disk. A
 * controller that cannot see the client's folder at all (a private mount namespace with an
 * empty tmpfs over it) applies, rolls out, rolls back and deploys what the client sends.
 */

import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { blobDigest } from "../../src/util/content-manifest.js";
import { baton, freePort, Project, ROOT, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { git } from "../helpers/git.js";
import { get } from "../helpers/http.js";
import { eventually } from "../helpers/wait.js";

let project: Project | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});

interface Api {
  readonly url: string;
  readonly token: string;
}

/** A call on the controller's API as a script with the token makes it. */
async function call(
  api: Api,
  method: string,
  path: string,
  body?: string | Buffer,
  type = "application/json",
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${api.token}`, "content-type": type },
    ...(body === undefined ? {} : { body }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("the controller's blob doors", () => {
  it("take blobs by the digest of their bytes, and an apply only with what it names", async () => {
    const port = await freePort();
    project = new Project(`apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    port: ${port}
`);
    const p = project;
    await p.ok("up", "--detach");
    await p.ok("wait");
    const before = await p.status();
    const api = {
      url: before.controller.api,
      token: readFileSync(join(p.stateDir, "api-token"), "utf8").trim(),
    };

    const hello = blobDigest("hello\n");
    expect(
      (await call(api, "POST", "/api/v1/blobs/missing", JSON.stringify({ digests: [hello] }))).body,
    ).toEqual({ missing: [hello] });
    const wrong = await call(
      api,
      "PUT",
      `/api/v1/blobs/${hello}`,
      "goodbye\n",
      "application/octet-stream",
    );
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({
      code: "content.digest_mismatch",
      message: `the 8 bytes uploaded as ${hello} hash to ${blobDigest("goodbye\n")}`,
    });
    const right = await call(
      api,
      "PUT",
      `/api/v1/blobs/${hello}`,
      "hello\n",
      "application/octet-stream",
    );
    expect(right).toEqual({ status: 201, body: { digest: hello, size: 6, created: true } });
    expect(
      (await call(api, "POST", "/api/v1/blobs/missing", JSON.stringify({ digests: [hello] }))).body,
    ).toEqual({ missing: [] });

    // Too large is said before a byte of the body is read.
    const tooLarge = await new Promise<{ status: number; code: string }>((done, fail) => {
      const req = request(`${api.url}/api/v1/blobs/${hello}`, {
        method: "PUT",
        headers: { authorization: `Bearer ${api.token}`, "content-length": String(4 * 1024 ** 3) },
      });
      req.on("response", (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on("end", () => {
          req.destroy();
          const body = JSON.parse(text) as { error: { code: string } };
          done({ status: res.statusCode ?? 0, code: body.error.code });
        });
      });
      req.on("error", fail);
      req.flushHeaders();
    });
    expect(tooLarge).toEqual({ status: 413, code: "content.too_large" });

    // The app's folder (the project) not sent: refused, naming it; nothing changes.
    const applied = await call(
      api,
      "POST",
      "/api/v1/apply",
      JSON.stringify({
        file: p.path("baton.yaml"),
        source: readFileSync(p.path("baton.yaml"), "utf8").replace(
          "port:",
          "replicas: 3\n    port:",
        ),
      }),
    );
    expect(applied.status).toBe(400);
    expect(applied.body.error).toMatchObject({
      code: "content.not_sent",
      message: `the definition reads ${p.dir}, which was not sent with it`,
    });
    // Where the definition sits in its working copy cannot point out of a pipeline's checkout.
    const outside = await call(
      api,
      "POST",
      "/api/v1/apply",
      JSON.stringify({
        file: p.path("baton.yaml"),
        source: "apps: {}\n",
        inRepository: "../../etc/baton.yaml",
      }),
    );
    expect(outside.status).toBe(400);
    expect(outside.body.error).toMatchObject({ code: "api.invalid_body" });
    expect((await p.status()).controller.definition).toEqual(before.controller.definition);
  });
});

/** Says what greeting.txt held when the replica started: the files it runs. */
const SERVER = `const http = require("node:http");
const greeting = require("node:fs").readFileSync("greeting.txt", "utf8").trim();
http
  .createServer((req, res) => res.end(greeting + " from " + process.env.BATON_REPLICA + "\\n"))
  .listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
`;

describe("a controller that cannot see the client's folder", () => {
  let root: string | undefined;
  afterEach(async () => {
    if (root === undefined) return;
    await baton(["down", "--state", join(root, "state")], { cwd: root });
    // Artifacts are read-only: opened up, so that the folder can be removed.
    execFileSync("chmod", ["-R", "u+w", root]);
    rmSync(root, { recursive: true, force: true });
    root = undefined;
  });

  it("applies, rolls out, rolls back and deploys what the client sends", async () => {
    const dir = mkdtempSync(join(tmpdir(), "baton-unseen-"));
    root = dir;
    const project = join(dir, "project");
    const state = join(dir, "state");
    const origin = join(dir, "origin.git");
    const port = await freePort();
    mkdirSync(project);
    const write = (name: string, text: string) => writeFileSync(join(project, name), text);
    write(
      "baton.yaml",
      `apps:
  web:
    command: ["${process.execPath}", server.cjs]
    replicas: 2
    port: ${port}
    health:
      readiness: { http: /, interval: 200ms }
    update: { healthyDeadline: 10s, drainTimeout: 1s }
pipelines:
  web:
    source: { repo: ../origin.git }
    triggers: { poll: false, push: false }
    steps:
      - { name: files, build: web }
`,
    );
    write("server.cjs", SERVER);
    write("greeting.txt", "v1\n");
    git(dir, "init", "-q", "--bare", "-b", "main", origin);
    git(project, "init", "-q", "-b", "main");
    git(project, "add", "-A");
    git(project, "commit", "-q", "-m", "v1");
    git(project, "push", "-q", origin, "main");

    // The controller's view of the world has an empty folder where the client's project is.
    const log = openSync(join(dir, "controller.log"), "a");
    const controller = spawn(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        'mount -t tmpfs tmpfs "$1" && exec "$2" "$3" --state "$4"',
        "sh",
        project,
        process.execPath,
        join(ROOT, "dist", "controller", "main.js"),
        state,
      ],
      { detached: true, stdio: ["ignore", log, log] },
    );
    controller.unref();
    const client = (...args: string[]) => baton([...args, "--state", state], { cwd: project });
    const ok = async (...args: string[]) => {
      const result = await client(...args);
      expect(result.code, `baton ${args.join(" ")}: ${result.stdout}${result.stderr}`).toBe(0);
      return result;
    };
    await eventually(
      "the controller waits for a definition",
      () => readFileSync(join(dir, "controller.log"), "utf8"),
      (text) => text.includes("waiting for a definition"),
    );
    expect(existsSync(join(project, "baton.yaml"))).toBe(true);
    expect(existsSync(`/proc/${controller.pid}/root${project}/baton.yaml`)).toBe(false);

    const serves = (greeting: string) =>
      eventually(
        `the proxy serves ${greeting}`,
        () => get(port),
        (r) => r.body.startsWith(`${greeting} from web-`),
        30_000,
      );
    await ok("apply");
    await ok("wait", "--timeout", "60s");
    await serves("v1");
    const first = JSON.parse((await ok("status", "--json")).stdout) as StatusJson;
    expect(first.controller.pid).toBe(controller.pid);

    // A rollout of an edited file: its new content is served.
    write("greeting.txt", "v2\n");
    await ok("apply");
    await serves("v2");
    await ok("wait", "--timeout", "60s");

    // Back to v1: its snapshot, made from what was uploaded then.
    await ok("rollback", "web");
    await serves("v1");
    await ok("wait", "--timeout", "60s");

    // A pipeline releases the files of a commit; deploying that release serves them.
    write("greeting.txt", "v3\n");
    git(project, "commit", "-q", "-am", "v3");
    git(project, "push", "-q", origin, "main");
    await ok("run", "web", "--wait", "--timeout", "2m");
    const releases = JSON.parse((await ok("releases", "web", "--json")).stdout) as {
      releases: { version: string; kind: string }[];
    };
    expect(releases.releases[0]?.kind).toBe("artifact");
    await ok("deploy", "web", "--release", releases.releases[0]!.version, "--wait");
    await serves("v3");

    // Its replicas and proxy run in its namespace, from the state it can see.
    const last = JSON.parse((await ok("status", "--json")).stdout) as StatusJson;
    const namespace = (pid: number) => readlinkSync(`/proc/${pid}/ns/mnt`);
    expect(namespace(last.controller.proxyPid!)).toBe(namespace(controller.pid!));
    for (const replica of last.apps[0]!.replicas) {
      expect(namespace(replica.pid!)).toBe(namespace(controller.pid!));
      expect(readlinkSync(`/proc/${replica.pid}/cwd`).startsWith(state)).toBe(true);
    }
    expect(namespace(controller.pid!)).not.toBe(namespace(process.pid));
  }, 240_000);
});
