/**
 * Pipelines' git side against real git: a working repository, a bare one it pushes to (with
 * Baton's post-receive hook, and `git push` from a clone to trigger it), and a file:// URL
 * standing in for a remote, which Baton reads through its mirror. The machine's git
 * configuration is kept out (GIT_CONFIG_NOSYSTEM, an empty global file).
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PipelineSource } from "../../src/definition/pipeline-model.js";
import {
  type BranchMoved,
  BranchPoller,
  checkout,
  commitsSince,
  DeliveryError,
  HOOK_LOG_NAME,
  hookScript,
  installHook,
  isAncestor,
  mirrorDirFor,
  PREVIOUS_HOOK_NAME,
  resolveBranch,
  resolveRef,
  type ScheduleFire,
  ScheduleWatch,
  uninstallHook,
} from "../../src/delivery/index.js";
import { eventually, processAlive } from "../helpers/wait.js";

let root: string;
let work: string;
let bare: string;
let mirrorRoot: string;
const hungPids: number[] = [];

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function commitFile(repo: string, file: string, content: string, message: string): string {
  writeFileSync(join(repo, file), content);
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", message);
  return git(repo, "rev-parse", "HEAD").trim();
}

function fileUrl(path: string): string {
  return `file://${path}`;
}

async function deliveryError(promise: Promise<unknown>): Promise<DeliveryError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DeliveryError) return error;
    throw error;
  }
  throw new Error("expected a DeliveryError, got success");
}

beforeAll(() => {
  try {
    execFileSync("git", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error("git is needed by these tests: install it (Debian: apt-get install git)");
  }
  root = mkdtempSync(join(tmpdir(), "baton-delivery-git-"));
  const globalConfig = join(root, "gitconfig");
  const templates = join(root, "templates");
  mkdirSync(join(templates, "hooks"), { recursive: true });
  // A machine-wide template hook that must never run in a run's checkout.
  writeFileSync(
    join(templates, "hooks", "post-checkout"),
    `#!/bin/sh\npwd >> ${join(root, "template-hook-ran")}\n`,
    { mode: 0o755 },
  );
  writeFileSync(globalConfig, `[init]\n\ttemplateDir = ${templates}\n`);
  Object.assign(process.env, {
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: globalConfig,
    GIT_AUTHOR_NAME: "Ada Tester",
    GIT_AUTHOR_EMAIL: "ada@example.test",
    GIT_COMMITTER_NAME: "Ada Tester",
    GIT_COMMITTER_EMAIL: "ada@example.test",
  });
  work = join(root, "work");
  bare = join(root, "origin.git");
  mirrorRoot = join(root, "mirrors");
  git(root, "init", "-q", "-b", "main", work);
  git(root, "init", "-q", "--bare", "-b", "main", bare);
  mkdirSync(join(work, "src/m3"), { recursive: true });
  writeFileSync(join(work, "src/m3/f3.txt"), "file 3\n");
  commitFile(work, "app.txt", "version one\n", "first version");
  git(work, "remote", "add", "origin", bare);
  git(work, "push", "-q", "origin", "main");
});

afterAll(() => {
  for (const pid of hungPids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe("resolveBranch", () => {
  it("reads a bare and a working repository in place", async () => {
    const expected = git(work, "rev-parse", "HEAD").trim();
    const fromBare = await resolveBranch({ repo: bare, branch: "main" }, mirrorRoot);
    expect(fromBare.commit).toBe(expected);
    expect(fromBare.subject).toBe("first version");
    expect(fromBare.author).toBe("Ada Tester");
    expect(Math.abs(fromBare.at - Date.now())).toBeLessThan(120_000);
    const fromWork = await resolveBranch({ repo: work, branch: "main" }, mirrorRoot);
    expect(fromWork).toEqual(fromBare);
    expect(existsSync(mirrorRoot)).toBe(false);
  });

  it("reads a URL through a mirror, fetched before each resolve", async () => {
    const source = { repo: fileUrl(bare), branch: "main" };
    const first = await resolveBranch(source, mirrorRoot);
    expect(first.commit).toBe(git(bare, "rev-parse", "main").trim());
    expect(existsSync(mirrorDirFor(source.repo, mirrorRoot))).toBe(true);
    const next = commitFile(work, "notes.txt", "pushed later\n", "a later commit");
    git(work, "push", "-q", "origin", "main");
    const fetchStarted = performance.now();
    const second = await resolveBranch(source, mirrorRoot);
    const fetched = performance.now() - fetchStarted;
    const localStarted = performance.now();
    await resolveBranch({ repo: bare, branch: "main" }, mirrorRoot);
    console.log(
      `resolve: ${Math.round(fetched)} ms through the mirror (fetch included), ${Math.round(performance.now() - localStarted)} ms in place`,
    );
    expect(second.commit).toBe(next);
    expect(second.subject).toBe("a later commit");
    // Under the state directory: the controller's user's alone, what a fetch added too.
    const open = execFileSync(
      "find",
      [mirrorDirFor(source.repo, mirrorRoot), "-perm", "/077", "-not", "-type", "l"],
      { encoding: "utf8" },
    );
    expect(open).toBe("");
  });

  it("names the repository and branch, with a command to look, when something is missing", async () => {
    const noBranch = await deliveryError(
      resolveBranch({ repo: bare, branch: "release" }, mirrorRoot),
    );
    expect(noBranch.code).toBe("branch-not-found");
    expect(noBranch.message).toContain(bare);
    expect(noBranch.message).toContain("'release'");
    expect(noBranch.hint).toContain(`git ls-remote --heads ${bare}`);

    // A prefix of existing refs is no branch: refs/heads/ma must not match refs/heads/main.
    git(bare, "branch", "feature/x", "main");
    const prefix = await deliveryError(
      resolveBranch({ repo: bare, branch: "feature" }, mirrorRoot),
    );
    expect(prefix.code).toBe("branch-not-found");

    const remoteNoBranch = await deliveryError(
      resolveBranch({ repo: fileUrl(bare), branch: "release" }, mirrorRoot),
    );
    expect(remoteNoBranch.code).toBe("branch-not-found");

    const noRepo = await deliveryError(
      resolveBranch({ repo: join(root, "nowhere.git"), branch: "main" }, mirrorRoot),
    );
    expect(noRepo.code).toBe("repo-not-found");
    expect(noRepo.message).toContain(join(root, "nowhere.git"));
    expect(noRepo.hint).toContain("git ls-remote");

    // A plain folder inside a repository is not read as that repository.
    mkdirSync(join(work, "plain"), { recursive: true });
    const plain = await deliveryError(
      resolveBranch({ repo: join(work, "plain"), branch: "main" }, mirrorRoot),
    );
    expect(plain.code).toBe("repo-not-found");

    const noRemote = await deliveryError(
      resolveBranch({ repo: fileUrl(join(root, "gone.git")), branch: "main" }, mirrorRoot),
    );
    expect(noRemote.code).toBe("repo-not-found");
    expect(readdirSync(mirrorRoot).filter((name) => name.includes("partial"))).toEqual([]);

    const relative = await deliveryError(
      resolveBranch({ repo: "repos/app", branch: "main" }, mirrorRoot),
    );
    expect(relative.code).toBe("repo-invalid");

    const option = await deliveryError(resolveBranch({ repo: bare, branch: "--all" }, mirrorRoot));
    expect(option.code).toBe("branch-invalid");
  });

  it("keeps a URL's password out of errors", async () => {
    const error = await deliveryError(
      resolveBranch(
        { repo: "https://deploy:s3cret-token@127.0.0.1:9/team/app.git", branch: "main" },
        mirrorRoot,
        { timeoutMs: 10_000 },
      ),
    );
    expect(error.message).not.toContain("s3cret-token");
    expect(error.hint ?? "").not.toContain("s3cret-token");
    expect(error.message).toContain("https://deploy:***@127.0.0.1:9/team/app.git");
  });
});

describe("resolveRef", () => {
  it("resolves a tag, a short id and a relative ref, locally and through the mirror", async () => {
    const first = git(work, "rev-list", "--max-parents=0", "HEAD").trim();
    git(work, "tag", "-a", "v1.0.0", "-m", "first release", first);
    git(work, "push", "-q", "origin", "v1.0.0");
    for (const repo of [bare, fileUrl(bare)]) {
      const source = { repo, branch: "main" };
      const tagged = await resolveRef(source, "v1.0.0", mirrorRoot);
      expect(tagged).toMatchObject({
        commit: first,
        subject: "first version",
        author: "Ada Tester",
      });
      expect((await resolveRef(source, first.slice(0, 10), mirrorRoot)).commit).toBe(first);
      expect((await resolveRef(source, "main~1", mirrorRoot)).commit).toBe(
        git(bare, "rev-parse", "main~1").trim(),
      );
      const missing = await deliveryError(resolveRef(source, "v9.9.9", mirrorRoot));
      expect(missing.code).toBe("commit-not-found");
      expect(missing.message).toContain("'v9.9.9'");
    }
    const option = await deliveryError(
      resolveRef({ repo: bare, branch: "main" }, "--all", mirrorRoot),
    );
    expect(option.code).toBe("commit-invalid");
  });
});

describe("checkout", () => {
  it("checks out exactly the commit asked for, replacing what the folder held", async () => {
    const old = git(work, "rev-parse", "HEAD").trim();
    const newer = commitFile(work, "app.txt", "version two\n", "second version");
    git(work, "push", "-q", "origin", "main");
    const dir = join(root, "runs", "r1");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "left-over.txt"), "from a previous run\n");

    await checkout({ repo: bare, branch: "main" }, old, dir, mirrorRoot);
    expect(readFileSync(join(dir, "app.txt"), "utf8")).toBe("version one\n");
    expect(existsSync(join(dir, "left-over.txt"))).toBe(false);
    expect(git(dir, "rev-parse", "HEAD").trim()).toBe(old);
    expect(git(dir, "status", "--porcelain")).toBe("");

    // From a remote's mirror, once a resolve has fetched the commit.
    const remote = { repo: fileUrl(bare), branch: "main" };
    expect((await resolveBranch(remote, mirrorRoot)).commit).toBe(newer);
    await checkout(remote, newer, dir, mirrorRoot);
    expect(readFileSync(join(dir, "app.txt"), "utf8")).toBe("version two\n");
    expect(readFileSync(join(dir, "src/m3/f3.txt"), "utf8")).toContain("file 3");

    // No hook ran in the run's checkout, not even one from the machine's git templates.
    const ran = existsSync(join(root, "template-hook-ran"))
      ? readFileSync(join(root, "template-hook-ran"), "utf8")
      : "";
    expect(ran).not.toContain(join(root, "runs"));
  });

  it("fetches a remote's mirror when it lacks the commit (or is not there yet)", async () => {
    const remote = { repo: fileUrl(bare), branch: "main" };
    const freshRoot = join(root, "fresh-mirrors");
    const dir = join(root, "runs", "r3");
    const head = git(bare, "rev-parse", "main").trim();
    await checkout(remote, head, dir, freshRoot);
    expect(git(dir, "rev-parse", "HEAD").trim()).toBe(head);
    const later = commitFile(work, "later.txt", "after the last fetch\n", "pushed after the fetch");
    git(work, "push", "-q", "origin", "main");
    await checkout(remote, later, dir, freshRoot);
    expect(readFileSync(join(dir, "later.txt"), "utf8")).toBe("after the last fetch\n");
    const missing = await deliveryError(checkout(remote, "2".repeat(40), dir, freshRoot));
    expect(missing.code).toBe("commit-not-found");
  });

  it("says which commit is missing", async () => {
    const dir = join(root, "runs", "r2");
    const missing = await deliveryError(
      checkout({ repo: bare, branch: "main" }, "0".repeat(40), dir, mirrorRoot),
    );
    expect(missing.code).toBe("commit-not-found");
    expect(missing.message).toContain("0".repeat(40));
    expect(existsSync(dir)).toBe(false);
    const bad = await deliveryError(
      checkout({ repo: bare, branch: "main" }, "HEAD~1", dir, mirrorRoot),
    );
    expect(bad.code).toBe("commit-invalid");
  });

  it("is quick for a 500-file repository (min/median/max of 5 printed)", async () => {
    const big = join(root, "big");
    git(root, "init", "-q", "-b", "main", big);
    for (let i = 0; i < 500; i++) {
      const dir = join(big, `src/m${i % 20}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `f${i}.txt`), `file ${i}\n`.repeat(20));
    }
    const commit = commitFile(big, "README", "500 files\n", "a 500-file tree");
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await checkout(
        { repo: big, branch: "main" },
        commit,
        join(root, "runs", "timed"),
        mirrorRoot,
      );
      times.push(performance.now() - started);
    }
    expect(readdirSync(join(root, "runs", "timed", "src"))).toHaveLength(20);
    times.sort((a, b) => a - b);
    const [min, , median, , max] = times.map((t) => Math.round(t));
    console.log(`checkout of 501 files: min ${min} ms, median ${median} ms, max ${max} ms`);
    // A loose bound: the figure is for the report; the machine is shared and its load varies.
    expect(median).toBeLessThan(5_000);
  });
});

describe("history", () => {
  it("orders commits: ancestors and what a push brought", async () => {
    const source = { repo: bare, branch: "main" };
    const log = git(bare, "rev-list", "main").trim().split("\n");
    const [head = "", parent = "", first = ""] = log;
    expect(await isAncestor(source, first, head, mirrorRoot)).toBe(true);
    expect(await isAncestor(source, head, first, mirrorRoot)).toBe(false);
    expect(await isAncestor(source, head, head, mirrorRoot)).toBe(true);
    expect(await commitsSince(source, first, head, mirrorRoot)).toEqual([head, parent]);
    expect(await commitsSince(source, head, head, mirrorRoot)).toEqual([]);
    const unknown = await deliveryError(isAncestor(source, "1".repeat(40), head, mirrorRoot));
    expect(unknown.code).toBe("commit-not-found");
  });
});

describe("post-receive hook", () => {
  let hooked: string;
  let clone: string;
  let stateDir: string;
  let calls: string;
  let notify: string;

  beforeAll(() => {
    hooked = join(root, "hooked.git");
    clone = join(root, "hooked-clone");
    stateDir = join(root, "state");
    calls = join(root, "notify-calls");
    notify = join(root, "notify.sh");
    git(root, "init", "-q", "--bare", "-b", "main", hooked);
    // A stand-in for the CLI: records its arguments, then hangs when asked to, as a Baton
    // that does not answer would.
    writeFileSync(
      notify,
      `echo "$$ $*" >> ${calls}\necho "notified $*"\nif [ -e ${join(root, "hang")} ]; then exec sleep 30; fi\n`,
    );
    writeFileSync(
      join(hooked, "hooks", "post-receive"),
      `#!/bin/sh\nwhile read old new ref; do echo "$ref $new" >> ${join(root, "previous-hook-ran")}; done\n`,
      { mode: 0o755 },
    );
    git(root, "clone", "-q", hooked, clone);
  });

  it("installs once, chaining the hook that was there", async () => {
    const original = readFileSync(join(hooked, "hooks", "post-receive"), "utf8");
    const script = hookScript({ node: "/bin/sh", cli: notify, stateDir, pipeline: "api" });
    expect(await installHook(hooked, script)).toBe("chained");
    const installed = join(hooked, "hooks", "post-receive");
    expect(statSync(installed).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(hooked, "hooks", PREVIOUS_HOOK_NAME), "utf8")).toBe(original);
    expect(await installHook(hooked, script)).toBe("unchanged");
    expect(readFileSync(installed, "utf8")).toBe(script);
    expect(readFileSync(join(hooked, "hooks", PREVIOUS_HOOK_NAME), "utf8")).toBe(original);
  });

  it("calls the notify command for each pushed ref, after the previous hook", async () => {
    const commit = commitFile(clone, "a.txt", "a\n", "hooked one");
    const started = performance.now();
    git(clone, "push", "-q", "origin", "main");
    const pushed = performance.now();
    const zero = "0".repeat(40);
    const line = await eventually(
      "the notify command ran",
      () => (existsSync(calls) ? readFileSync(calls, "utf8") : ""),
      (text) => text.includes(commit),
      10_000,
    );
    console.log(
      `git push took ${Math.round(pushed - started)} ms; notify seen ${Math.round(performance.now() - started)} ms after the push started`,
    );
    expect(line.trim().split(" ").slice(1)).toEqual([
      "hooks",
      "notify",
      "--state",
      stateDir,
      "--pipeline",
      "api",
      "--repo",
      realpathSync(hooked),
      "refs/heads/main",
      zero,
      commit,
    ]);
    expect(readFileSync(join(root, "previous-hook-ran"), "utf8")).toBe(
      `refs/heads/main ${commit}\n`,
    );
    // Its output goes to the state folder's log, not to the pusher.
    await eventually(
      "the notify output reached the log",
      () => readFileSync(join(stateDir, HOOK_LOG_NAME), "utf8"),
      (text) => text.includes("refs/heads/main"),
      10_000,
    );
  });

  it("lets a push return at once when Baton hangs", async () => {
    writeFileSync(join(root, "hang"), "");
    commitFile(clone, "b.txt", "b\n", "hooked two");
    const started = performance.now();
    git(clone, "push", "-q", "origin", "main");
    const took = performance.now() - started;
    const text = await eventually(
      "the hanging notify started",
      () => readFileSync(calls, "utf8").trim().split("\n"),
      (lines) => lines.length === 2,
      10_000,
    );
    const pid = Number(text[1]?.split(" ")[0]);
    hungPids.push(pid);
    expect(processAlive(pid)).toBe(true);
    // The notify command hangs for 30 s; the push is back long before.
    expect(took).toBeLessThan(5_000);
    rmSync(join(root, "hang"));
  });

  it("notifies each ref of a push that moves several", async () => {
    const base = readFileSync(calls, "utf8").trim().split("\n").length;
    git(clone, "branch", "-f", "next", "HEAD");
    git(clone, "tag", "t1");
    git(clone, "push", "-q", "origin", "next", "t1");
    const lines = await eventually(
      "both refs were notified",
      () => readFileSync(calls, "utf8").trim().split("\n").slice(base),
      (found) => found.length === 2,
      10_000,
    );
    expect(lines.map((line) => line.split(" ")[9]).sort()).toEqual([
      "refs/heads/next",
      "refs/tags/t1",
    ]);
  });

  it("works in a working (non-bare) repository too, naming it by its folder", async () => {
    const landing = join(root, "landing");
    const pusher = join(root, "landing-pusher");
    const landingCalls = join(root, "landing-calls");
    git(root, "init", "-q", "-b", "main", landing);
    commitFile(landing, "x.txt", "x\n", "landing first");
    git(root, "clone", "-q", landing, pusher);
    const recorder = join(root, "record.sh");
    writeFileSync(recorder, `echo "$*" >> ${landingCalls}\n`);
    const script = hookScript({ node: "/bin/sh", cli: recorder, stateDir });
    expect(await installHook(landing, script)).toBe("installed");
    expect(existsSync(join(landing, ".git", "hooks", "post-receive"))).toBe(true);
    const commit = commitFile(pusher, "y.txt", "y\n", "to a side branch");
    git(pusher, "push", "-q", "origin", "HEAD:refs/heads/incoming");
    const text = await eventually(
      "the landing repository's hook ran",
      () => (existsSync(landingCalls) ? readFileSync(landingCalls, "utf8") : ""),
      (found) => found.includes(commit),
      10_000,
    );
    expect(text).toContain(`--repo ${realpathSync(landing)} refs/heads/incoming`);
  });

  it("exits 0 at once when Baton is not there, its state folder is not writable, and the previous hook fails", () => {
    const hooksDir = join(root, "lonely-hooks");
    mkdirSync(hooksDir, { recursive: true });
    writeFileSync(join(hooksDir, PREVIOUS_HOOK_NAME), "#!/bin/sh\ncat >/dev/null\nexit 3\n", {
      mode: 0o755,
    });
    const script = hookScript({
      node: join(root, "no-such-node"),
      cli: "/nowhere/baton.js",
      stateDir: "/proc/baton-cannot-write-here",
    });
    writeFileSync(join(hooksDir, "post-receive"), script, { mode: 0o755 });
    const started = performance.now();
    // execFileSync throws on a non-zero exit: returning is the assertion.
    execFileSync(join(hooksDir, "post-receive"), [], {
      cwd: bare,
      input: `${"0".repeat(40)} ${"1".repeat(40)} refs/heads/main\n`,
      stdio: ["pipe", "ignore", "ignore"],
    });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("uninstalls, putting the previous hook back", async () => {
    const previous = readFileSync(join(hooked, "hooks", PREVIOUS_HOOK_NAME), "utf8");
    expect(await uninstallHook(hooked)).toBe("restored");
    expect(readFileSync(join(hooked, "hooks", "post-receive"), "utf8")).toBe(previous);
    expect(existsSync(join(hooked, "hooks", PREVIOUS_HOOK_NAME))).toBe(false);
    expect(await uninstallHook(hooked)).toBe("not-installed");

    // Without a hook before it, install writes it and uninstall removes it.
    const plain = join(root, "plain.git");
    git(root, "init", "-q", "--bare", "--template=", plain);
    const script = hookScript({ node: "/bin/sh", cli: notify, stateDir });
    expect(await installHook(plain, script)).toBe("installed");
    expect(await installHook(plain, script.replace("notify.sh", "other.sh"))).toBe("updated");
    expect(await uninstallHook(plain)).toBe("removed");
    expect(existsSync(join(plain, "hooks", "post-receive"))).toBe(false);
  });

  it("refuses to lose a hook when both a foreign hook and a kept one are there", async () => {
    const repo = join(root, "conflict.git");
    git(root, "init", "-q", "--bare", repo);
    writeFileSync(join(repo, "hooks", "post-receive"), "#!/bin/sh\nexit 0\n");
    chmodSync(join(repo, "hooks", "post-receive"), 0o755);
    writeFileSync(join(repo, "hooks", PREVIOUS_HOOK_NAME), "#!/bin/sh\nexit 0\n");
    const error = await deliveryError(
      installHook(repo, hookScript({ node: "/bin/sh", cli: notify, stateDir })),
    );
    expect(error.code).toBe("hook-conflict");
    expect(error.hint).toContain(PREVIOUS_HOOK_NAME);
  });
});

describe("BranchPoller", () => {
  it("reports a pushed commit once, not the head it started from, and keeps polling after a failure", async () => {
    const moves: BranchMoved[] = [];
    const errors: unknown[] = [];
    const poller = new BranchPoller({
      mirrorRoot,
      onCommit: (moved) => {
        moves.push(moved);
      },
      onError: (_id, _source, error) => {
        errors.push(error);
      },
    });
    const source: PipelineSource = { repo: fileUrl(bare), branch: "main" };
    const before = git(bare, "rev-parse", "main").trim();
    poller.watch("api", source, { pollMs: 100 });
    poller.watch("missing", { repo: bare, branch: "nope" }, { pollMs: 100 });
    try {
      await eventually(
        "the first poll learned the head",
        () => poller.pollNow("api"),
        (head) => head?.commit === before,
      );
      expect(moves).toEqual([]);

      const pushed = commitFile(work, "app.txt", "version three\n", "third version");
      git(work, "push", "-q", "origin", "main");
      await eventually(
        "the poller saw the push",
        () => moves.length,
        (n) => n >= 1,
        10_000,
      );
      // A hook's notification racing the poll does not report the commit twice.
      await poller.pollNow("api");
      expect(moves).toHaveLength(1);
      expect(moves[0]).toMatchObject({ id: "api", previous: before, head: { commit: pushed } });

      await eventually(
        "failures were reported, again and again",
        () => errors.length,
        (n) => n >= 2,
      );
      expect(errors[0]).toBeInstanceOf(DeliveryError);
      expect((errors[0] as DeliveryError).code).toBe("branch-not-found");
    } finally {
      await poller.stop();
    }
    expect(poller.watching()).toEqual([]);
  });

  it("reports a head other than the last one run when told what that was", async () => {
    const moves: BranchMoved[] = [];
    const poller = new BranchPoller({
      mirrorRoot,
      onCommit: (moved) => {
        moves.push(moved);
      },
      onError: () => {},
    });
    const head = git(bare, "rev-parse", "main").trim();
    const older = git(bare, "rev-parse", "main~1").trim();
    poller.watch("api", { repo: bare, branch: "main" }, { pollMs: 60_000, lastSeen: older });
    try {
      await poller.pollNow("api");
      expect(moves.map((m) => [m.previous, m.head.commit])).toEqual([[older, head]]);
    } finally {
      await poller.stop();
    }
  });
});

describe("ScheduleWatch on the real clock", () => {
  it("fires a pipeline every second with a 6-field cron", async () => {
    const fires: ScheduleFire[] = [];
    const errors: unknown[] = [];
    const watch = new ScheduleWatch({
      onFire: (fire) => {
        fires.push(fire);
      },
      onError: (_pipeline, error) => {
        errors.push(error);
      },
    });
    watch.set("api", ["* * * * * *"]);
    try {
      await eventually(
        "two fires",
        () => fires.length,
        (n) => n >= 2,
        5_000,
      );
    } finally {
      watch.stop();
    }
    const [one, two] = fires;
    expect((two?.at.getTime() ?? 0) - (one?.at.getTime() ?? 0)).toBe(1_000);
    expect(one?.at.getMilliseconds()).toBe(0);
    expect(errors).toEqual([]);
  });
});
