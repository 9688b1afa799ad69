/**
 * The README's delivery walk-through, as a newcomer types it: the example copied into its
 * own git repository, dev and prod controllers, a commit that reaches dev by itself (poll),
 * `baton approve`, the same release in prod, a failing test that releases nothing.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { baton, freePort, ROOT } from "../helpers/cli.js";
import { get } from "../helpers/http.js";
import { eventually } from "../helpers/wait.js";

const dir = mkdtempSync(join(tmpdir(), "baton-shop-"));

afterAll(async () => {
  await run("down");
  await run("down", "--env", "prod");
  // Artifacts are read-only.
  execFileSync("chmod", ["-R", "u+w", dir]);
  rmSync(dir, { recursive: true, force: true });
});

function run(...args: string[]) {
  return baton(args, { cwd: dir });
}

async function ok(...args: string[]): Promise<string> {
  const result = await run(...args);
  if (result.code !== 0) {
    throw new Error(
      `baton ${args.join(" ")} exited ${result.code}\n${result.stdout}${result.stderr}`,
    );
  }
  return result.stdout;
}

function git(...args: string[]): void {
  execFileSync("git", ["-c", "user.name=ann", "-c", "user.email=ann@example.invalid", ...args], {
    cwd: dir,
  });
}

interface RunJson {
  run: { id: number; state: string; reason: string | null; release: { version: string } | null };
  steps: { name: string; state: string; detail: string | null }[];
}

async function lastRun(): Promise<RunJson | undefined> {
  return (JSON.parse(await ok("runs", "--json", "-n", "1")) as { runs: RunJson[] }).runs[0];
}

describe("the README's delivery example", () => {
  it("takes a commit to dev by itself and to prod once approved; a failing test releases nothing", async () => {
    cpSync(join(ROOT, "examples", "delivery"), dir, { recursive: true });
    // The example's ports, made free ones (tests run side by side).
    const [dev, prod] = [await freePort(), await freePort()];
    const file = join(dir, "baton.yaml");
    writeFileSync(
      file,
      readFileSync(file, "utf8")
        .replace("port: 8092", `port: ${prod}`)
        .replace("port: 8091", `port: ${dev}`),
    );
    git("init", "-q", "-b", "main");
    git("add", "-A");
    git("commit", "-qm", "v1");
    await ok("up", "--detach", "--env", "dev");
    await ok("up", "--detach", "--env", "prod");
    await ok("wait", "--timeout", "60s");
    await ok("wait", "--env", "prod", "--timeout", "60s");
    expect((await get(dev)).body).toMatch(/^hello from v1 /);

    writeFileSync(join(dir, "web", "greeting.txt"), "hello from v2\n");
    git("commit", "-qam", "say v2");
    const waiting = (await eventually(
      "the commit is tested, released, deployed to dev, and waits for approval",
      lastRun,
      (r) =>
        r?.steps.find((s) => s.name === "prod")?.state === "waiting" || r?.run.state === "failed",
      60_000,
    )) as RunJson;
    expect(waiting.steps.map((s) => `${s.name} ${s.state} ${s.detail}`)).toEqual([
      "test passed 1 tests, 0 failed, 0 skipped",
      `release passed release ${waiting.run.release?.version}`,
      `dev passed web ${waiting.run.release?.version} in dev`,
      `prod waiting waiting for \`baton approve ${waiting.run.id}\``,
    ]);
    expect((await get(dev)).body).toMatch(/^hello from v2 /);
    expect((await get(prod)).body).toMatch(/^hello from v1 /);

    expect(await ok("approve", String(waiting.run.id))).toMatch(/approved by /);
    await eventually(
      "prod says v2",
      () => get(prod),
      (r) => /^hello from v2 /.test(r.body),
      60_000,
    );
    // Served as soon as its first replica is pooled; the run ends when the rollout has.
    await eventually("the run passes", lastRun, (r) => r?.run.state === "passed", 60_000);
    const releases = await ok("releases", "web", "--env", "prod");
    expect(releases).toMatch(
      new RegExp(
        `^\\*\\s+\\d+\\s+${waiting.run.release?.version}\\s+sha256:\\S+\\s+\\S+\\s+\\S+\\s+pipeline shop #${waiting.run.id} \\(promoted from dev\\)$`,
        "m",
      ),
    );
    expect(await ok("history", "web", "--env", "prod")).toMatch(
      new RegExp(`pipeline shop #${waiting.run.id} promote from dev, approved by \\S+`),
    );

    writeFileSync(
      join(dir, "web", "greeting.txt"),
      "hello from a version whose greeting is far too long to fit on the screen\n",
    );
    git("commit", "-qam", "a longer greeting");
    const failed = (await eventually(
      "the failing commit's run ends",
      lastRun,
      (r) => r !== undefined && r.run.id !== waiting.run.id && r.run.state === "failed",
      60_000,
    )) as RunJson;
    expect(failed.run.reason).toBe(
      "test failed: 1 of 1 tests failed: the greeting is one short line (test)",
    );
    expect(failed.run.release).toBeNull();
    expect((await get(dev)).body).toMatch(/^hello from v2 /);
  }, 240_000);
});
