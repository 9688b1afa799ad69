import { randomBytes } from "node:crypto";
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { freePort, Project, type StatusJson, TEST_APP } from "../helpers/cli.js";
import { docker, ensureDocker, nodeBaseImage, removeTestContainers } from "../helpers/docker.js";
import { get } from "../helpers/http.js";
import { Load } from "../helpers/load.js";
import { filesHolding, setSecret } from "../helpers/secrets.js";
import { eventually } from "../helpers/wait.js";

await ensureDocker();
const image = await nodeBaseImage();

// The environment's private key lives here for these tests, not in the user's ~/.config.
const keys = mkdtempSync(join(tmpdir(), "baton-keys-"));
process.env.BATON_AGE_KEY_FILE = join(keys, "default.age");

let project: Project | undefined;
let load: Load | undefined;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await load?.stop();
  load = undefined;
  if (project !== undefined) {
    await project.cleanup();
    await removeTestContainers(`baton.state=${project.stateDir}`);
  }
  project = undefined;
});
afterAll(() => rmSync(keys, { recursive: true, force: true }));

/** A value no file, log or output holds by chance. */
const newSecret = (): string => `pw-${randomBytes(12).toString("hex")}`;

function definition(ports: { web: number; box: number }, hookToken: string): string {
  return `apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    replicas: 2
    port: ${ports.web}
    env: { GREETING: { secret: greeting } }
    health:
      readiness: { http: /healthz, interval: 200ms }
    update: { maxSurge: 1, maxUnavailable: 0, healthyDeadline: 20s, drainTimeout: 5s }
  box:
    runtime: docker
    image: ${image}
    command: ["${process.execPath}", "/app/${TEST_APP.split("/").at(-1)}"]
    volumes: ["${dirname(TEST_APP)}:/app:ro"]
    containerPort: 8080
    env: { HOST: 0.0.0.0, GREETING: { secret: greeting } }
    replicas: 1
    port: ${ports.box}
    health:
      readiness: { http: /healthz, interval: 200ms }
notifiers:
  ops: { webhook: "http://127.0.0.1:9/hook?token=${hookToken}" }
`;
}

const app = (s: StatusJson, name: string) => s.apps.find((a) => a.name === name)!;

describe("secrets", () => {
  it("reach process and container replicas, roll out on change with 0 failed requests, and leak nowhere", async () => {
    const ports = { web: await freePort(), box: await freePort() };
    const hookToken = `tok-${randomBytes(12).toString("hex")}`;
    project = new Project(definition(ports, hookToken));
    const p = project;

    // Referenced before it exists: refused at the reference, naming the file and the fix.
    const refused = await p.run("validate");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'error[spec.unknown_secret] apps.web.env.GREETING.secret names secret "greeting", but secrets/default.age.yaml does not exist',
    );
    expect(refused.stderr).toContain("--> baton.yaml:6:32");
    expect(refused.stderr).toContain("hint: set it: `baton secret set greeting`");

    const first = newSecret();
    setSecret(p, "greeting", first);
    const file = readFileSync(p.path("secrets/default.age.yaml"), "utf8");
    expect(file).toContain("-----BEGIN AGE ENCRYPTED FILE-----");
    expect(file).not.toContain(first);
    expect(statSync(process.env.BATON_AGE_KEY_FILE!).mode & 0o777).toBe(0o600);

    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "60s");
    expect((await get(ports.web)).body).toMatch(new RegExp(`^${first} from web-`));
    expect((await get(ports.box)).body).toMatch(new RegExp(`^${first} from box-`));

    const before = await p.status();
    load = new Load(ports.web, 4, 90_000);
    await eventually(
      "load flows",
      () => load!.counts.ok,
      (ok) => ok > 50,
    );

    const second = newSecret();
    setSecret(p, "greeting", second);
    const plan = await p.ok("plan", "--json");
    const steps = (JSON.parse(plan.stdout) as { steps: { id: string; changes: unknown[] }[] })
      .steps;
    expect(steps.map((s) => s.id).sort()).toEqual(["app/box", "app/web"]);
    for (const step of steps) {
      expect(step.changes).toEqual([
        { field: "secrets.greeting", from: "(secret, changed)", to: "(secret, changed)" },
      ]);
    }
    const applied = await p.ok("apply", "--wait", "--timeout", "90s");
    const report = await load.stop();
    load = undefined;
    expect(report.failed, report.errors.join("\n")).toBe(0);
    expect(report.ok).toBeGreaterThan(100);

    const after = await p.status();
    for (const name of ["web", "box"]) {
      expect(app(after, name).revision).not.toBe(app(before, name).revision);
    }
    expect((await get(ports.web)).body).toMatch(new RegExp(`^${second} from web-`));
    expect((await get(ports.box)).body).toMatch(new RegExp(`^${second} from box-`));

    // Nowhere in the state, nor in what Baton printed or answers.
    const outputs = [
      refused.stdout,
      refused.stderr,
      plan.stdout,
      plan.stderr,
      applied.stdout,
      applied.stderr,
      JSON.stringify(await p.api("/api/v1/secrets")),
      JSON.stringify(await p.api("/api/v1/status")),
      JSON.stringify(await p.api("/api/v1/events")),
    ];
    for (const args of [
      ["status", "--json"],
      ["plan", "--json"],
      ["history", "web", "--json"],
      ["history", "box", "--json"],
      ["metrics", "--json"],
      ["alerts", "--json"],
      ["logs", "web", "--json"],
      ["secret", "ls", "--json"],
    ]) {
      const out = await p.run(...args);
      outputs.push(out.stdout, out.stderr);
    }
    for (const value of [first, second, hookToken]) {
      expect(filesHolding(p.stateDir, value), `${value} under the state directory`).toEqual([]);
      expect(outputs.filter((o) => o.includes(value))).toEqual([]);
    }
    // A container's environment is the engine's to keep, not Baton's state: it is there.
    const box = app(after, "box").replicas[0]!;
    const env = await docker(["inspect", "--format", "{{json .Config.Env}}", box.container!]);
    expect(env).toContain(`GREETING=${second}`);
  });

  it("fill a host file, a webhook URL and an SMTP password; the stored definition holds no secret written in it", async () => {
    const hookToken = `hook-${randomBytes(12).toString("hex")}`;
    const posts: string[] = [];
    const server: Server = createServer((req, res) => {
      if (req.method === "POST" && req.url === `/hook/${hookToken}`) posts.push(req.url);
      req.resume();
      req.on("end", () => res.end("ok"));
    });
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/${hookToken}`;
    // Written in the definition itself, as before secrets existed: kept out of the state too.
    const inlineToken = `inline-${randomBytes(12).toString("hex")}`;
    const inlineFileSecret = `inline-file-${randomBytes(12).toString("hex")}`;
    const dbPassword = newSecret();
    const smtpPassword = newSecret();
    const target = mkdtempSync(join(tmpdir(), "baton-secret-host-"));
    try {
      project = new Project(`hosts:
  here: { connection: local }
configure:
  all:
    - file: { path: ${target}/db.conf, content: { secret: db-password } }
    - file: { path: ${target}/inline.conf, content: "${inlineFileSecret}", secret: true, mode: "0600" }
apps:
  crasher:
    command: ["node", "-e", "process.exit(3)"]
    restart: { backoff: 100ms, maxBackoff: 400ms, resetAfter: 1s }
notifiers:
  ops: { webhook: { secret: hook-url } }
  inline: { webhook: "http://127.0.0.1:9/inline/${inlineToken}" }
  mail:
    email:
      smtp: "127.0.0.1:9"
      from: baton@example.invalid
      to: ops@example.invalid
      username: baton
      password: { secret: smtp-password }
alerting:
  notify: [ops]
  groupWait: 200ms
  groupInterval: 500ms
  repeatInterval: 1h
  evaluationInterval: 200ms
  disable: [replica-not-ready]
`);
      const p = project;
      setSecret(p, "db-password", dbPassword);
      setSecret(p, "hook-url", hook);
      setSecret(p, "smtp-password", smtpPassword);
      await p.ok("up", "--detach");
      // `apply` configures the hosts; the file is written by the time it answers.
      const applied = await p.ok("apply");
      expect(readFileSync(join(target, "db.conf"), "utf8")).toBe(dbPassword);
      await eventually(
        "the webhook got the crash-loop alert",
        () => posts.length,
        (n) => n > 0,
      );

      const outputs: string[] = [applied.stdout, applied.stderr];
      for (const args of [
        ["status", "--json"],
        ["plan", "--json"],
        ["plan"],
        ["drift", "--json"],
        ["alerts", "--history", "--json"],
        ["logs", "--json"],
      ]) {
        const out = await p.run(...args);
        outputs.push(out.stdout, out.stderr);
      }
      outputs.push(JSON.stringify(await p.api("/api/v1/events")));
      for (const value of [dbPassword, hookToken, inlineToken, inlineFileSecret, smtpPassword]) {
        expect(filesHolding(p.stateDir, value), `${value} under the state directory`).toEqual([]);
        expect(outputs.filter((o) => o.includes(value))).toEqual([]);
      }
    } finally {
      server.closeAllConnections();
      server.close();
      rmSync(target, { recursive: true, force: true });
    }
  });

  it("reach a process and a container as files on tmpfs, gone once their replica stops", async () => {
    // Answers the file's content and mode: what the replica sees.
    const reader = (path: string) =>
      `const fs = require("node:fs"); require("node:http").createServer((q, r) => { try { const p = ${path}; r.end(fs.readFileSync(p, "utf8") + " " + (fs.statSync(p).mode & 0o777).toString(8)); } catch (e) { r.end(String(e)); } }).listen(Number(process.env.PORT), process.env.LISTEN_ON ?? "127.0.0.1");`;
    const ports = { proc: await freePort(), box: await freePort() };
    // Readable by the container's user (65534), unlike the project's private folder.
    const code = mkdtempSync(join(tmpdir(), "baton-secret-reader-"));
    chmodSync(code, 0o755);
    writeFileSync(join(code, "reader-box.cjs"), reader('"/run/secrets/db"'));
    chmodSync(join(code, "reader-box.cjs"), 0o644);
    cleanups.push(() => rmSync(code, { recursive: true, force: true }));
    project = new Project(
      `apps:
  proc:
    command: ["node", "reader-proc.cjs"]
    port: ${ports.proc}
    files: { /run/secrets/db: { secret: db-password } }
  box:
    runtime: docker
    image: ${image}
    command: ["${process.execPath}", "/app/reader-box.cjs"]
    volumes: ["${code}:/app:ro"]
    containerPort: 8080
    env: { LISTEN_ON: 0.0.0.0 }
    port: ${ports.box}
    # The engine's port forwarder accepts before the app listens: ask the app itself.
    health: { readiness: { http: /, interval: 200ms } }
    files: { /run/secrets/db: { secret: db-password, mode: "0440" } }
`,
      {
        "reader-proc.cjs": reader('process.env.BATON_SECRETS_DIR + "/run/secrets/db"'),
      },
    );
    const p = project;
    const value = newSecret();
    setSecret(p, "db-password", value);
    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "60s");
    expect((await get(ports.proc)).body).toBe(`${value} 400`);
    expect((await get(ports.box)).body).toBe(`${value} 440`);

    const status = await p.status();
    const replica = app(status, "proc").replicas[0]!;
    const folders = readdirSync("/dev/shm").filter((n) => n.startsWith("baton-secrets-"));
    const held = folders.flatMap((f) => filesHolding(join("/dev/shm", f), value));
    expect(held.some((path) => path.includes(`/${replica.id}/run/secrets/db`))).toBe(true);
    expect(filesHolding(p.stateDir, value)).toEqual([]);

    // A new value: new replicas with the new file, the old replicas' files removed.
    const next = newSecret();
    setSecret(p, "db-password", next);
    await p.ok("apply", "--wait", "--timeout", "60s");
    expect((await get(ports.proc)).body).toBe(`${next} 400`);
    expect((await get(ports.box)).body).toBe(`${next} 440`);
    const left = folders.flatMap((f) => filesHolding(join("/dev/shm", f), value));
    expect(left).toEqual([]);
    // `baton down` leaves no secret file of the state behind.
    await p.ok("down");
    const after = folders.flatMap((f) =>
      statSync(join("/dev/shm", f), { throwIfNoEntry: false }) === undefined
        ? []
        : filesHolding(join("/dev/shm", f), next),
    );
    expect(after).toEqual([]);
  });

  it("are masked in `baton logs` and the logs API when an app prints one", async () => {
    project = new Project(`apps:
  chatty:
    command: ["sh", "-c", "echo \\"connecting with $DB_PASSWORD\\"; exec sleep 600"]
    env: { DB_PASSWORD: { secret: db-password } }
`);
    const p = project;
    const value = newSecret();
    setSecret(p, "db-password", value);
    await p.ok("up", "--detach");
    await p.ok("wait", "--timeout", "30s");
    const logs = await eventually(
      "the app's line is in its logs",
      async () => (await p.ok("logs", "chatty")).stdout,
      (out) => out.includes("connecting with"),
    );
    expect(logs).toContain("connecting with ***");
    expect(logs).not.toContain(value);
    const json = await p.ok("logs", "chatty", "--json");
    expect(json.stdout).toContain("connecting with ***");
    expect(json.stdout).not.toContain(value);
  });
});
