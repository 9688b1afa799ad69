/**
 * `baton secret rotate-key` replaces the environment's key while a controller runs: the state
 * it sealed before (the stored definition, the secrets file of the last apply) is encrypted
 * to the key the rotation kept beside the new one. A controller restarted before the next
 * apply still runs its stored definition, and that apply seals with the new key.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CLI, freePort, Project, ROOT, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { get } from "../helpers/http.js";
import { eventually, processAlive } from "../helpers/wait.js";

const keys = mkdtempSync(join(tmpdir(), "baton-keys-"));
process.env.BATON_AGE_KEY_FILE = join(keys, "default.age");

let project: Project | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});
afterAll(() => rmSync(keys, { recursive: true, force: true }));

function cli(p: Project, args: string[], input?: string): string {
  return execFileSync(process.execPath, [CLI, ...args], {
    cwd: p.dir,
    ...(input === undefined ? {} : { input }),
    env: { ...process.env, NO_COLOR: "1" },
    encoding: "utf8",
  });
}

/** Stops the project's controller, starts its entry point on the state alone; its pid. */
async function restartController(p: Project, log: string): Promise<number> {
  const before = await p.status();
  process.kill(before.controller.pid, "SIGTERM");
  await eventually(
    "the controller stops",
    () => processAlive(before.controller.pid),
    (alive) => !alive,
  );
  const out = openSync(log, "a");
  const controller = spawn(
    process.execPath,
    [join(ROOT, "dist", "controller", "main.js"), "--state", p.stateDir],
    { detached: true, stdio: ["ignore", out, out] },
  );
  controller.unref();
  if (controller.pid === undefined) throw new Error("the controller did not start");
  return controller.pid;
}

async function runsAgain(p: Project, pid: number, log: string): Promise<StatusJson> {
  try {
    const seen = await eventually(
      "the restarted controller runs the stored definition",
      () => p.status().catch(() => undefined),
      (s) => s?.controller.pid === pid && s.apps[0]?.ready === 1,
      30_000,
    );
    if (seen === undefined) throw new Error("bug: accepted no status");
    return seen;
  } catch (error) {
    throw new Error(`${(error as Error).message}\ncontroller log:\n${readFileSync(log, "utf8")}`);
  }
}

describe("a key rotated while a controller runs", () => {
  it("does not keep a restarted controller from its stored definition", async () => {
    const port = await freePort();
    project = new Project(`apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    replicas: 1
    port: ${port}
    env: { GREETING: { secret: greeting } }
    health:
      readiness: { http: /healthz, interval: 200ms }
`);
    const p = project;
    const value = `pw-${randomBytes(12).toString("hex")}`;
    cli(p, ["secret", "set", "greeting"], value);
    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "30s");

    // No environments declared: the rotation is of the default one.
    cli(p, ["secret", "rotate-key"]);
    const log = join(keys, "controller.log");
    const first = await runsAgain(p, await restartController(p, log), log);
    expect(first.controller.pid).toBeGreaterThan(0);
    expect((await get(port)).body).toMatch(new RegExp(`^${value} from `));

    // The next apply seals with the new key: without the old ones it is read back too.
    await p.ok("apply", "--wait", "--timeout", "30s");
    for (const name of readdirSync(keys).filter((n) => n.startsWith("default.age.old-"))) {
      rmSync(join(keys, name));
    }
    await runsAgain(p, await restartController(p, log), log);
    expect((await get(port)).body).toMatch(new RegExp(`^${value} from `));
  });
});
