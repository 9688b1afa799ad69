import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { baton, CLI, freePort, Project, type StatusJson } from "../helpers/cli.js";
import { get } from "../helpers/http.js";
import { environOf, identityOf, processGroup } from "../helpers/process-identity.js";
import { eventually } from "../helpers/wait.js";

let project: Project | undefined;
afterEach(async () => {
  await project?.cleanup();
  project = undefined;
});

const NOBODY = { uid: 65534, gid: 65534, home: "/nonexistent" };

/** The controller's environment: what a root shell on a managed server holds. */
const CONTROLLER_ENV = {
  SSH_AUTH_SOCK: "/tmp/ssh-agent.sock",
  FOO_TOKEN: "controller-secret-token",
  LANG: "C.UTF-8",
  TZ: "Europe/Paris",
};

function replicaPids(status: StatusJson, app: string): number[] {
  const found = status.apps.find((a) => a.name === app);
  return (found?.replicas ?? []).flatMap((r) => (r.pid === null ? [] : [r.pid]));
}

async function runningPid(p: Project, app: string): Promise<number> {
  const status = await eventually(
    `${app} has a ready replica`,
    () => p.status(),
    (s) => s.apps.find((a) => a.name === app)?.ready === 1,
  );
  const [pid] = replicaPids(status, app);
  if (pid === undefined) throw new Error(`${app} has no replica pid`);
  return pid;
}

/** Runs `argv` as nobody, as an app with `user: nobody` could. */
function asNobody(argv: readonly string[]): number | null {
  const [file = "", ...args] = argv;
  return spawnSync(
    "setpriv",
    ["--reuid=65534", "--regid=65534", "--clear-groups", "--", file, ...args],
    { stdio: "ignore" },
  ).status;
}

describe("what a process replica inherits", () => {
  it("gets only its declared environment, PATH, HOME, LANG, TZ and Baton's variables: not the controller's SSH_AUTH_SOCK nor its tokens", async () => {
    project = new Project(`apps:
  plain:
    command: ["sleep", "1000"]
    env: { DECLARED: "yes" }
`);
    const up = await baton(["up", "--detach"], { cwd: project.dir, env: CONTROLLER_ENV });
    expect(up.code, up.stderr).toBe(0);
    await project.ok("wait", "--timeout", "30s");

    const plain = environOf(await runningPid(project, "plain"));
    expect(plain).not.toHaveProperty("SSH_AUTH_SOCK");
    expect(plain).not.toHaveProperty("FOO_TOKEN");
    expect(Object.keys(plain).sort()).toEqual(
      [
        "BATON_APP",
        "BATON_REPLICA",
        "BATON_REVISION",
        "DECLARED",
        "HOME",
        "LANG",
        "PATH",
        "PORT",
        "TZ",
      ].sort(),
    );
    expect(plain).toMatchObject({ DECLARED: "yes", LANG: "C.UTF-8", TZ: "Europe/Paris" });
  });

  it("gets the controller's variables that inheritEnv names, or all of them with inheritEnv: true", async () => {
    project = new Project(`apps:
  listed:
    command: ["sleep", "1000"]
    inheritEnv: [FOO_TOKEN]
  everything:
    command: ["sleep", "1000"]
    inheritEnv: true
`);
    const up = await baton(["up", "--detach"], { cwd: project.dir, env: CONTROLLER_ENV });
    expect(up.code, up.stderr).toBe(0);
    await project.ok("wait", "--timeout", "30s");

    const listed = environOf(await runningPid(project, "listed"));
    expect(listed.FOO_TOKEN).toBe(CONTROLLER_ENV.FOO_TOKEN);
    expect(listed).not.toHaveProperty("SSH_AUTH_SOCK");

    const everything = environOf(await runningPid(project, "everything"));
    expect(everything).toMatchObject({
      SSH_AUTH_SOCK: CONTROLLER_ENV.SSH_AUTH_SOCK,
      FOO_TOKEN: CONTROLLER_ENV.FOO_TOKEN,
    });
  });

  it("reads envFile as Compose does, rolls the app out when the file changes, and points at a bad line without echoing it", async () => {
    project = new Project(
      `apps:
  app:
    command: ["sleep", "1000"]
    envFile: config/app.env
    env: { OVERRIDDEN: "by env:" }
`,
      {
        "config/app.env": [
          "# the app's settings",
          "export DB_HOST=db.internal # where the database is",
          "URL=http://${DB_HOST}:5432/x#fragment",
          "LITERAL='${DB_HOST} stays'",
          'MULTI="line one\\nline two"',
          "OVERRIDDEN=by the file",
          "",
        ].join("\n"),
      },
    );
    await project.ok("up", "--detach");
    await project.ok("wait", "--timeout", "30s");
    const first = await runningPid(project, "app");
    expect(environOf(first)).toMatchObject({
      DB_HOST: "db.internal",
      URL: "http://db.internal:5432/x#fragment",
      LITERAL: "${DB_HOST} stays",
      MULTI: "line one\nline two",
      OVERRIDDEN: "by env:",
    });
    const before = (await project.status()).apps[0]?.revision;

    project.write("config/app.env", "DB_HOST=db2.internal\n");
    await project.ok("apply", "--wait", "--timeout", "30s");
    const after = await project.status();
    expect(after.apps[0]?.revision).not.toBe(before);
    const [second] = replicaPids(after, "app");
    expect(environOf(second ?? 0).DB_HOST).toBe("db2.internal");

    project.write("config/app.env", 'DB_HOST=db3\nPASSWORD="hunter2-secret\n');
    const bad = await project.run("validate");
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("config/app.env:2:10");
    expect(bad.stderr).toMatch(/the value of PASSWORD opens a double quote that is never closed/);
    expect(bad.stderr).not.toContain("hunter2");
  });
});

describe("user: for process apps", () => {
  it("runs the replica's whole process group and its exec probes as the user, HOME its home, its snapshot and log its own, the state directory closed to it", async () => {
    const port = await freePort();
    project = new Project(
      `apps:
  web:
    command: "sleep 1000 & exec node server.cjs"
    user: nobody
    port: ${port}
    health:
      readiness: { exec: ["sh", "ready-as-nobody.sh"], interval: 200ms }
`,
      {
        "server.cjs": [
          'const fs = require("node:fs");',
          'const shipped = fs.readFileSync("shipped.txt", "utf8").trim();',
          // Reopening /dev/stdout opens the log file again, by its inode's permissions.
          'fs.writeFileSync("/dev/stdout", `started as ${process.getuid()}\\n`);',
          'require("node:http").createServer((req, res) => {',
          "  res.end(`${process.getuid()}:${process.getgid()} ${process.env.HOME} ${shipped}`);",
          "}).listen(Number(process.env.PORT), '127.0.0.1');",
        ].join("\n"),
        "shipped.txt": "from the snapshot\n",
        // An exec probe runs as the app's user too: as root, it would run a file the app may edit.
        "ready-as-nobody.sh": '[ "$(id -u)" = 65534 ] && [ "$HOME" = /nonexistent ]\n',
      },
    );
    // The project folder is the user's to open to the app's user, as for any service.
    chmodSync(project.dir, 0o711);
    await project.ok("up", "--detach");
    await project.ok("wait", "--timeout", "30s");

    const answer = await get(port);
    expect(answer.body).toBe(`65534:65534 ${NOBODY.home} from the snapshot`);
    const leader = await runningPid(project, "web");
    const group = await eventually(
      "the replica's group holds the server and its sleeping child",
      () => processGroup(leader),
      (pids) => pids.length >= 2,
    );
    for (const pid of group) {
      expect(identityOf(pid), `process ${pid}`).toEqual({
        uids: [NOBODY.uid, NOBODY.uid, NOBODY.uid, NOBODY.uid],
        gids: [NOBODY.gid, NOBODY.gid, NOBODY.gid, NOBODY.gid],
        groups: [NOBODY.gid],
      });
    }
    expect(environOf(leader).HOME).toBe(NOBODY.home);
    const logs = await project.ok("logs", "web");
    expect(logs.stdout).toContain("started as 65534");

    // Nothing else of the state directory: not listed, not read.
    const state = project.stateDir;
    expect(asNobody(["ls", state])).not.toBe(0);
    expect(asNobody(["cat", join(state, "api-token")])).not.toBe(0);
    expect(asNobody(["ls", join(state, "runtime")])).not.toBe(0);
    expect(asNobody(["ls", join(state, "logs", "web")])).not.toBe(0);
    expect(statSync(state).mode & 0o077).toBe(0o011);
  });

  it("refuses an unknown user at the app's line, saying how to create it", async () => {
    project = new Project(`apps:
  db:
    command: ["sleep", "1000"]
    user: baton-no-such-user
`);
    const plan = await project.run("plan");
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain(
      'apps.db.user: there is no user "baton-no-such-user" on this machine',
    );
    expect(plan.stderr).toContain("baton.yaml:4:11");
    expect(plan.stderr).toContain("useradd --system --no-create-home baton-no-such-user");
  });

  it("tells a controller that is not root that it cannot run replicas as another user", async () => {
    project = new Project(`apps:
  db:
    command: ["sleep", "1000"]
    user: postgres
`);
    chownSync(project.dir, NOBODY.uid, NOBODY.gid);
    chownSync(project.path("baton.yaml"), NOBODY.uid, NOBODY.gid);
    const plan = spawnSync(
      "setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", "--", process.execPath, CLI, "plan"],
      {
        cwd: project.dir,
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1", BATON_STATE: "" },
      },
    );
    expect(plan.status, plan.stdout).toBe(1);
    const uid = execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim();
    expect(plan.stderr).toContain(
      `apps.db.user: the controller runs as uid 65534: only root can start replicas as ${uid}:`,
    );
    expect(plan.stderr).toMatch(/hint: run the controller \(`baton up`\) as root/);
  });
});
