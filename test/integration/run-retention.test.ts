/**
 * Retention of pipeline runs' files with a real controller and a real git repository:
 * `retention: { runs: 2 }` keeps the files of the two newest finished runs; the oldest run's
 * `runs/<id>/` goes after the third run ends, its record stays (`baton runs`), and its logs
 * answer why they are gone. A step that prints more than `maxLogSize` has its log capped.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runWorkspace } from "../../src/security/sandbox/index.js";
import { Project } from "../helpers/cli.js";
import { git } from "../helpers/git.js";
import { eventually } from "../helpers/wait.js";

// 2000 numbered lines (about 20 KB), then the verdict an operator looks for at the end.
const NOISY_TEST = `#!/bin/sh
i=1
while [ $i -le 2000 ]; do printf 'line %04d\\n' $i; i=$((i + 1)); done
echo "verdict: all good"
`;

interface RunJson {
  run: { id: number; state: string; pruned?: { at: number; reason: string } };
}

let p: Project;

beforeAll(async () => {
  p = new Project("apps: {}\n");
  const repo = p.path("shop");
  mkdirSync(repo);
  git(repo, "init", "-q", "-b", "main");
  writeFileSync(join(repo, "test.sh"), NOISY_TEST);
  git(repo, "add", ".");
  git(repo, "commit", "-qm", "noisy test");
  p.write(
    "baton.yaml",
    `pipelines:
  shop:
    source: { repo: shop, branch: main }
    triggers: { push: false, poll: false }
    retention: { runs: 2, maxLogSize: 2Ki }
    steps:
      - name: test
        run: sh test.sh
`,
  );
  await p.ok("up", "--detach");
}, 120_000);

afterAll(async () => {
  await p?.cleanup();
});

const runDir = (id: number) => join(p.stateDir, "runs", String(id));
/** Its checkout, outside the state directory (security/sandbox). */
const checkoutOf = (id: number) => runWorkspace(p.stateDir, id);

async function runs(): Promise<RunJson[]> {
  return (JSON.parse((await p.ok("runs", "--json", "-n", "50")).stdout) as { runs: RunJson[] })
    .runs;
}

describe("retention of pipeline runs", () => {
  it("removes the oldest run's files past `runs: 2`, keeps its record, and says so", async () => {
    for (let i = 0; i < 3; i++) {
      const byHand = await p.run("run", "shop", "--wait");
      expect(byHand.code, byHand.stdout + byHand.stderr).toBe(0);
    }
    const ids = (await runs()).map((r) => r.run.id).sort((a, b) => a - b);
    expect(ids).toHaveLength(3);
    const [first, second, third] = ids as [number, number, number];

    await eventually(
      `run #${first}'s directory is removed`,
      () => existsSync(runDir(first)),
      (exists) => !exists,
      20_000,
    );
    expect(existsSync(runDir(second))).toBe(true);
    expect(existsSync(runDir(third))).toBe(true);
    expect(existsSync(checkoutOf(first))).toBe(false);
    expect(existsSync(join(checkoutOf(third), "test.sh"))).toBe(true);

    const listed = await runs();
    expect(listed.map((r) => r.run.id).sort((a, b) => a - b)).toEqual(ids);
    expect(listed.find((r) => r.run.id === first)?.run.pruned?.reason).toBe(
      "pipeline shop keeps 2 runs",
    );
    expect(listed.find((r) => r.run.id === third)?.run.pruned).toBeUndefined();
    expect((await p.ok("runs")).stdout).toContain(
      "files removed by retention (pipeline shop keeps 2 runs)",
    );

    const expected = `error[run.pruned] run ${first}'s logs were removed by retention (pipeline shop keeps 2 runs); change retention: under pipelines.shop to keep more\n`;
    const runLogs = await p.run("run", "logs", String(first));
    expect(runLogs.code).toBe(1);
    expect(runLogs.stderr).toBe(expected);
    const logs = await p.run("logs", String(first));
    expect(logs.code).toBe(1);
    expect(logs.stderr).toBe(expected);

    // One event for the sweep that removed the run, not one per file.
    const { events } = (await p.api("/api/v1/events?limit=1000")) as {
      events: { type: string; message: string; data: { count?: number } }[];
    };
    const pruned = events.filter((e) => e.type === "run.pruned");
    expect(pruned).toHaveLength(1);
    expect(pruned[0]?.message).toBe(
      `retention removed the files of 1 finished run: shop #${first}`,
    );
  }, 120_000);

  it("caps a step's log at maxLogSize: its start, a line saying it was cut, its end", async () => {
    const newest = (await runs())[0]?.run.id ?? 0;
    const file = join(runDir(newest), "logs", "test.log");
    // 2Ki of output and Baton's few lines about the cut, not the 20 KB the step printed.
    expect(statSync(file).size).toBeLessThan(2048 + 512);
    const log = readFileSync(file, "utf8");
    expect(log).toContain("line 0001\n");
    expect(log).toContain("--- baton: … log truncated at 2Ki (retention)");
    expect(log).not.toContain("line 1000\n");
    expect(log).toMatch(/line 2000\nverdict: all good\n--- baton: step test passed after/);

    const shown = await p.ok("run", "logs", String(newest));
    expect(shown.stdout).toMatch(/^test \| line 0001$/m);
    expect(shown.stdout).toMatch(/^test \| verdict: all good$/m);
  }, 60_000);
});
