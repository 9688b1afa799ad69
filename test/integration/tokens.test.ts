/**
 * People and roles through the built CLI and the controller's real HTTP API: tokens made
 * with `baton token create`, each call allowed by its role or refused with the role it needs,
 * revoked and expired tokens refused, who did what taken from the token (never from what the
 * request says) and every change in `baton audit`, kept across a restart. Then a promotion
 * between two controllers: whoever started a run cannot approve it, and the dev controller
 * promotes into prod with a token that can do nothing else.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { baton, type CliResult, freePort, Project, TEST_APP } from "../helpers/cli.js";
import { git } from "../helpers/git.js";
import { get } from "../helpers/http.js";
import { promotionProject } from "../helpers/promotion.js";
import { eventually } from "../helpers/wait.js";

let project: Project | undefined;
let prodToo = false;
afterEach(async () => {
  if (project === undefined) return;
  if (prodToo) {
    // Artifacts are read-only: opened up, so that the folder can be removed without root too.
    execFileSync("chmod", ["-R", "u+w", project.dir]);
    await project.run("down", "--env", "prod");
  }
  await project.cleanup();
  project = undefined;
  prodToo = false;
});

interface AuditJson {
  entries: {
    who: string;
    role: string;
    action: string;
    target: string | null;
    outcome: number;
    address: string;
    at: number;
  }[];
}

interface TokensJson {
  tokens: {
    name: string;
    role: string;
    env: string | null;
    expires: number | null;
    lastUsed: number | null;
    revoked: number | null;
  }[];
}

/** `baton ARGS` in the project, as the holder of `token`. */
function as(p: Project, token: string, ...args: string[]): Promise<CliResult> {
  return baton(args, { cwd: p.dir, env: { BATON_TOKEN: token } });
}

async function newToken(p: Project, name: string, role: string, ...more: string[]) {
  const made = await p.ok("token", "create", name, "--role", role, ...more);
  const secret = made.stdout.trim();
  expect(secret).toMatch(/^baton_[0-9a-f]{64}$/);
  return secret;
}

/** A raw call to the API of the controller `state` names, as any HTTP client would make it. */
async function call(
  p: Project,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  env: string[] = [],
): Promise<{
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}> {
  const status = JSON.parse((await p.ok("status", "--json", ...env)).stdout) as {
    controller: { api: string };
  };
  const res = await fetch(`${status.controller.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, never> };
}

const webApp = (port: number, replicas: number, extra = "") => `apps:
  web:
    command: ["node", ${JSON.stringify(TEST_APP)}]
    replicas: ${replicas}
    port: ${port}${extra}
`;

describe("people and roles", () => {
  it("allows each token what its role allows, refuses the rest by name, and audits every change", async () => {
    const port = await freePort();
    project = new Project(webApp(port, 1));
    const p = project;
    await p.ok("up", "--detach");
    await p.ok("wait");

    const vera = await newToken(p, "vera", "viewer");
    const dan = await newToken(p, "dan", "deployer");

    // A viewer reads…
    expect((await as(p, vera, "status", "--json")).code).toBe(0);
    // …and cannot apply, scale, approve or read secrets: 403, naming the role it needs.
    const scaled = await as(p, vera, "scale", "web", "2");
    expect(scaled.code).toBe(1);
    expect(scaled.stderr).toContain("error[api.forbidden]");
    expect(scaled.stderr).toContain("needs the role deployer; token vera has the role viewer");
    const applied = await as(p, vera, "apply");
    expect(applied.stderr).toContain("POST /api/v1/apply needs the role deployer");
    const approved = await as(p, vera, "approve", "1");
    expect(approved.stderr).toContain("needs the role approver; token vera has the role viewer");
    const secrets = await call(p, vera, "GET", "/api/v1/secrets");
    expect(secrets.status).toBe(403);
    expect(secrets.body.error?.message).toContain("needs the role admin");
    expect((await as(p, vera, "token", "ls")).stderr).toContain("needs the role admin");
    expect((await as(p, vera, "audit")).stderr).toContain("needs the role admin");

    // A deployer changes things, and is who history says did.
    await as(p, dan, "scale", "web", "2").then((r) => expect(r.stderr).toBe(""));
    p.write("baton.yaml", webApp(port, 2, "\n    env: { GREETING: v2 }"));
    const danApplied = await as(p, dan, "apply", "--wait");
    expect(danApplied.code, danApplied.stderr).toBe(0);
    const history = JSON.parse((await p.ok("history", "web", "--json")).stdout) as {
      rollouts: { id: number; by: string }[];
    };
    const newest = history.rollouts.reduce((a, b) => (b.id > a.id ? b : a));
    expect(newest.by).toBe("dan");
    // What a request says of who sent it is not read: the token says it.
    const rollback = await call(p, dan, "POST", "/api/v1/apps/web/rollback", { by: "mallory" });
    expect(rollback.status, JSON.stringify(rollback.body)).toBe(200);
    expect(rollback.body.rollout).toMatchObject({ by: "dan" });

    // The list shows each token's role and use, never a secret.
    const listed = await p.ok("token", "ls", "--json");
    expect(listed.stdout).not.toContain(vera.slice(6));
    expect(listed.stdout).not.toContain(dan.slice(6));
    const tokens = (JSON.parse(listed.stdout) as TokensJson).tokens;
    expect(tokens.map((t) => `${t.name} ${t.role}`)).toEqual([
      "bootstrap admin",
      "vera viewer",
      "dan deployer",
    ]);
    expect(tokens.find((t) => t.name === "dan")?.lastUsed).not.toBeNull();
    expect(readFileSync(join(p.stateDir, "state.db")).includes(dan)).toBe(false);

    // Revoked, expired and unknown tokens: 401.
    await p.ok("token", "revoke", "dan");
    const revoked = await as(p, dan, "status");
    expect(revoked.stderr).toContain("error[api.unauthorized] token dan was revoked");
    const brief = await newToken(p, "brief", "viewer", "--expires", "1s");
    await eventually(
      "the one-second token is refused",
      () => as(p, brief, "status"),
      (r) => r.stderr.includes("error[api.unauthorized] token brief expired at"),
      10_000,
    );
    const guessed = await as(p, `baton_${"0".repeat(64)}`, "status");
    expect(guessed.stderr).toContain("not one of this controller's tokens");

    // Every change is in the audit log, with the token's name, role, outcome and address.
    const audit = (JSON.parse((await p.ok("audit", "--json")).stdout) as AuditJson).entries;
    const line = (e: AuditJson["entries"][number]) =>
      `${e.who} ${e.role} ${e.action} ${e.target ?? "-"} ${e.outcome}`;
    const lines = audit.map(line);
    expect(lines).toEqual(
      expect.arrayContaining([
        "bootstrap admin POST /api/v1/tokens vera 200",
        "vera viewer POST /api/v1/apps/:app/scale web 403",
        "vera viewer POST /api/v1/runs/:run/approve 1 403",
        "dan deployer POST /api/v1/apps/:app/scale web 200",
        "dan deployer POST /api/v1/apply - 200",
        "dan deployer POST /api/v1/apps/:app/rollback web 200",
        "bootstrap admin DELETE /api/v1/tokens/:token dan 200",
      ]),
    );
    expect(new Set(audit.map((e) => e.address))).toEqual(new Set(["127.0.0.1"]));
    // Reads and uploads are not changes.
    expect(lines.filter((l) => / (GET|PUT) /.test(l) || l.includes("blobs"))).toEqual([]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await p.ok("audit", "--since", future)).stdout.trim()).toBe("nothing recorded");
    expect((await p.ok("audit", "--since", "1h")).stdout).toContain("dan");

    // Kept across a restart; with no controller, token commands act on the state directly
    // and are audited as the local user's.
    await p.ok("down");
    await p.ok("token", "create", "later", "--role", "viewer");
    const offline = (JSON.parse((await p.ok("audit", "--json")).stdout) as AuditJson).entries;
    expect(offline.slice(0, audit.length)).toEqual(audit);
    expect(offline.at(-1)).toMatchObject({
      role: "local",
      action: "token.create",
      target: "later",
      outcome: 200,
      address: "local",
    });
    await p.ok("up", "--detach");
    await p.ok("wait");
    const after = (JSON.parse((await p.ok("audit", "--json")).stdout) as AuditJson).entries;
    expect(after.slice(0, offline.length)).toEqual(offline);
  }, 180_000);

  it("records who did something from the token, whatever the request says (audit finding)", async () => {
    const port = await freePort();
    project = new Project(webApp(port, 1));
    const p = project;
    await p.ok("up", "--detach");
    await p.ok("wait");
    p.write("baton.yaml", webApp(port, 1, "\n    env: { GREETING: v2 }"));
    await p.ok("apply", "--wait");
    const own = readFileSync(join(p.stateDir, "api-token"), "utf8").trim();
    const rollback = await call(p, own, "POST", "/api/v1/apps/web/rollback", { by: "mallory" });
    expect(rollback.status, JSON.stringify(rollback.body)).toBe(200);
    expect(rollback.body.rollout).toMatchObject({ by: "bootstrap" });
    const silence = await call(p, own, "POST", "/api/v1/silences", {
      matchers: ["crash-loop"],
      for: "1h",
      by: "mallory",
    });
    expect(silence.body.silence).toMatchObject({ createdBy: "bootstrap" });
    const history = JSON.parse((await p.ok("history", "web", "--json")).stdout) as {
      rollouts: { by: string }[];
    };
    expect(new Set(history.rollouts.map((r) => r.by))).toEqual(new Set(["bootstrap"]));
  }, 120_000);

  it("keeps an approver from approving its own run, and promotes with a token that can only promote", async () => {
    const port = await freePort();
    const prodPort = await freePort();
    project = new Project(
      promotionProject({
        name: "roles",
        port,
        prodPort,
        update: "{ healthyDeadline: 5s, drainTimeout: 2s }",
        steps: [
          "- { name: files, build: web }",
          "- { name: dev, deploy: { app: web, env: dev } }",
          "- { name: prod, promote: { app: web, to: prod, approval: manual } }",
        ],
      }),
      {
        ".gitignore": ".baton/\n.baton-prod/\n",
        "server.cjs": `const greeting = require("node:fs").readFileSync("greeting.txt", "utf8").trim();
require("node:http").createServer((req, res) => res.end(greeting + "\\n")).listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
`,
        "greeting.txt": "v1\n",
      },
    );
    prodToo = true;
    const p = project;
    git(p.dir, "init", "-q", "-b", "main");
    git(p.dir, "add", "-A");
    git(p.dir, "commit", "-q", "-m", "v1");
    await p.ok("up", "--detach", "--env", "dev");
    await p.ok("up", "--detach", "--env", "prod");
    await p.ok("wait", "--timeout", "60s");
    await p.ok("wait", "--env", "prod", "--timeout", "60s");
    const ann = await newToken(p, "ann", "approver");
    const bob = await newToken(p, "bob", "approver");

    p.write("greeting.txt", "v2\n");
    git(p.dir, "commit", "-q", "-am", "say v2");
    const started = await as(p, ann, "run", "web", "--json");
    expect(started.code, started.stderr).toBe(0);
    type RunsJson = {
      runs: { run: { id: number; createdBy: string }; steps: { name: string; state: string }[] }[];
    };
    const waiting = await eventually(
      "the promotion waits for its approval",
      // Ann's run: the pipeline's slow poll may queue one of its own for the same commit.
      async () =>
        (JSON.parse((await p.ok("runs", "--json")).stdout) as RunsJson).runs.find(
          (r) => r.run.createdBy === "ann",
        ),
      (r) => r?.steps.find((s) => s.name === "prod")?.state === "waiting",
      120_000,
    );
    const id = String(waiting?.run.id);
    expect(waiting?.run.createdBy).toBe("ann");

    const own = await as(p, ann, "approve", id);
    expect(own.code).toBe(1);
    expect(own.stderr).toContain(`error[api.forbidden] run #${id} was started by token ann`);
    const other = await as(p, bob, "approve", id);
    expect(other.stdout).toContain(`run #${id} approved by bob`);
    await eventually(
      "prod serves v2",
      () => get(prodPort),
      (r) => r.body.trim() === "v2",
      60_000,
    );
    const history = await p.ok("history", "web", "--env", "prod");
    // By the promotion token, for the run whose approval it carries.
    expect(history.stdout).toMatch(
      /promote-web-from-dev \(pipeline web #\d+ promote from dev, approved by bob\)/,
    );

    // Prod was changed by the scoped token alone, which dev keeps to itself.
    const kept = join(p.stateDir, "peer-tokens", "prod.web");
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    const promoter = readFileSync(kept, "utf8").trim();
    const prodAudit = (
      JSON.parse((await p.ok("audit", "--env", "prod", "--json")).stdout) as AuditJson
    ).entries.map((e) => `${e.who} ${e.role} ${e.action} ${e.target ?? "-"} ${e.outcome}`);
    expect(prodAudit).toEqual(
      expect.arrayContaining([
        "bootstrap admin POST /api/v1/tokens promote-web-from-dev 200",
        "promote-web-from-dev promoter POST /api/v1/releases web 200",
        "promote-web-from-dev promoter POST /api/v1/apps/:app/deploy web 200",
      ]),
    );
    // It can import and deploy web in prod, and nothing else: no approval, no secret, no
    // other app, not even a read.
    const prod = ["--env", "prod"];
    const refused = [
      await call(p, promoter, "POST", `/api/v1/runs/${id}/approve`, {}, prod),
      await call(p, promoter, "GET", "/api/v1/secrets", undefined, prod),
      await call(p, promoter, "POST", "/api/v1/apps/web/scale", { replicas: 3 }, prod),
      await call(p, promoter, "POST", "/api/v1/apps/api/deploy", { release: "x" }, prod),
      await call(p, promoter, "GET", "/api/v1/status", undefined, prod),
    ];
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403, 403]);
    expect(refused[0]?.body.error?.message).toContain(
      "needs the role approver; token promote-web-from-dev has the role promoter",
    );
    expect(refused[3]?.body.error?.message).toContain("may promote web, not api");
    const health = await call(p, promoter, "GET", "/api/v1/apps/web/release", undefined, prod);
    expect(health.status).toBe(200);
  }, 300_000);
});
