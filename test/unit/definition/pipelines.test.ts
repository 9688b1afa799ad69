import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateCronExpression } from "../../../src/definition/cron-syntax.js";
import { parseDefinition, SpecError } from "../../../src/definition/index.js";

function yaml(...lines: string[]): string {
  return `${lines.join("\n")}\n`;
}

function refused(text: string): SpecError {
  try {
    parseDefinition(text, "baton.yaml");
  } catch (error) {
    if (error instanceof SpecError) return error;
    throw error;
  }
  throw new Error("expected the definition to be refused");
}

const APPS = [
  "registry: 127.0.0.1:5000",
  "apps:",
  "  api:",
  "    build: { context: . }",
  "    command: [node, server.js]",
  "    port: 8080",
  "  worker:",
  "    command: [node, worker.js]",
  "environments:",
  "  dev: {}",
  "  prod: { state: .baton-prod }",
];

describe("pipelines in a definition", () => {
  it("reads the issue's pipeline: defaults, durations, implicit order of release steps", () => {
    const dir = mkdtempSync(join(tmpdir(), "baton-pipelines-"));
    writeFileSync(join(dir, "Dockerfile"), "FROM scratch\n");
    const d = parseDefinition(
      yaml(
        ...APPS,
        "pipelines:",
        "  api:",
        "    source: { repo: ., branch: main }",
        "    triggers: { schedule: '0 3 * * *', poll: 30s }",
        "    steps:",
        "      - name: test",
        "        run: npm ci && npm test",
        "        image: node-build",
        "        reports: { junit: reports/*.xml }",
        "        timeout: 10m",
        "        cache: [.npm, { path: node_modules, key: deps }]",
        "        env: { CI: true, SHARDS: 2 }",
        "        secrets: { NPM_TOKEN: { file: secrets/npm }, KEY: { env: REGISTRY_KEY } }",
        "      - name: lint",
        "        run: npm run lint",
        "        retries: 2",
        "      - name: image",
        "        build: api",
        "      - name: dev",
        "        deploy: { app: api, env: dev }",
        "      - name: prod",
        "        promote: { app: api, to: prod, approval: manual, after: { healthyFor: 5m } }",
      ),
      join(dir, "baton.yaml"),
    );
    const p = d.pipelines.api;
    expect(p?.source).toEqual({ repo: dir, branch: "main" });
    expect(p?.triggers).toEqual({ push: true, pollMs: 30_000, schedule: ["0 3 * * *"] });
    expect(p?.concurrency).toEqual({ cancelSuperseded: true });
    expect(p?.steps[0]).toEqual({
      kind: "run",
      name: "test",
      run: "npm ci && npm test",
      image: "node-build",
      env: { CI: "true", SHARDS: "2" },
      secrets: {
        NPM_TOKEN: { kind: "file", path: join(dir, "secrets/npm") },
        KEY: { kind: "env", name: "REGISTRY_KEY" },
      },
      junit: ["reports/*.xml"],
      caches: [
        { path: ".npm", key: ".npm" },
        { path: "node_modules", key: "deps" },
      ],
      artifacts: [],
      needs: [],
      timeoutMs: 600_000,
      retries: 0,
    });
    // Two `run` steps without `needs` run in parallel; release steps wait for all before them.
    expect(p?.steps[1]).toMatchObject({
      name: "lint",
      needs: [],
      retries: 2,
      timeoutMs: 3_600_000,
    });
    expect(p?.steps[2]).toMatchObject({ kind: "build", app: "api", needs: ["test", "lint"] });
    expect(p?.steps[3]).toMatchObject({ kind: "deploy", app: "api", environment: "dev" });
    expect(p?.steps[4]).toEqual({
      kind: "promote",
      name: "prod",
      app: "api",
      from: "dev",
      to: "prod",
      approval: "manual",
      healthyForMs: 300_000,
      needs: ["test", "lint", "image", "dev"],
      timeoutMs: 3_600_000,
      retries: 0,
    });
  });

  it("keeps URLs as they are and reads poll: false as never", () => {
    const d = parseDefinition(
      yaml(
        "pipelines:",
        "  site:",
        "    source: { repo: 'git@example.org:team/site.git' }",
        "    triggers: { push: false, poll: false }",
        "    concurrency: { cancelSuperseded: false }",
        "    steps: [{ name: test, run: make test }]",
      ),
      "baton.yaml",
    );
    expect(d.pipelines.site?.source).toEqual({
      repo: "git@example.org:team/site.git",
      branch: "main",
    });
    expect(d.pipelines.site?.triggers).toEqual({ push: false, pollMs: 0, schedule: [] });
    expect(d.pipelines.site?.concurrency.cancelSuperseded).toBe(false);
  });

  it("reports every mistake at its line, with how to fix it", () => {
    const e = refused(
      yaml(
        ...APPS,
        "pipelines:",
        "  api:",
        "    source: { repo: . }",
        "    triggers: { schedule: ['0 3 * *', '61 * * * *'] }",
        "    steps:",
        "      - name: test",
        "        run: npm test",
        "        needs: [imgg]",
        "      - name: test",
        "        run: npm test",
        "      - { name: nothing }",
        "      - { name: both, run: make, build: api }",
        "      - { name: img, build: worker, image: node }",
        "      - { name: a, run: a, needs: [b] }",
        "      - { name: b, run: b, needs: [a] }",
        "      - { name: early, promote: { app: api, to: prod } }",
        "      - { name: dev, deploy: { app: apj, env: dve } }",
        "      - { name: lint, run: make lint, image: node, user: builder }",
      ),
    );
    // The app's own problems (no Dockerfile here) are not this test's.
    const pipelines = e.diagnostics.filter((d) => d.path.startsWith("pipelines"));
    expect(pipelines.map((d) => `${d.line}:${d.code} ${d.message}`)).toEqual([
      "15:spec.invalid_schedule pipelines.api.triggers.schedule[0] is not a cron expression: it has 4 fields, not 5 (or 6 with seconds)",
      '15:spec.invalid_schedule pipelines.api.triggers.schedule[1] is not a cron expression: its minute field "61" has "61", not a number from 0 to 59',
      "19:spec.unknown_step pipelines.api.steps[0].needs[0] names imgg, which is not a step of this pipeline",
      "20:spec.duplicate_step pipelines.api.steps[1] is named test, like pipelines.api.steps[0]",
      "22:spec.invalid_step pipelines.api.steps[2] does nothing: it has none of run, build, deploy or promote",
      "23:spec.invalid_step pipelines.api.steps[3] has run and build: a step does one thing",
      "24:spec.invalid_step pipelines.api.steps[4].image belongs to `run` steps; this one is a `build` step",
      "25:spec.needs_cycle the steps a → b → a wait for each other: none of them could ever start",
      "27:spec.promote_without_source pipelines.api.steps[7] promotes api, but no step before it deploys api to an environment to promote from",
      "28:spec.unknown_app pipelines.api.steps[8].deploy.app names apj, which is not an app of `apps:`",
      "28:spec.unknown_environment pipelines.api.steps[8].deploy.env names the environment dve, which `environments:` does not declare",
      "29:spec.invalid_step pipelines.api.steps[9].user is for steps on the host; this one runs in a container of node, as its image's user",
    ]);
    const hint = (code: string) => e.diagnostics.find((d) => d.code === code)?.hint;
    expect(hint("spec.unknown_step")).toBe("did you mean `img`?");
    expect(hint("spec.unknown_app")).toBe("did you mean `api`?");
    expect(hint("spec.unknown_environment")).toBe("did you mean `dev`?");
  });

  it("runs a pipeline where it first deploys, and finds other environments by their state", () => {
    const dir = mkdtempSync(join(tmpdir(), "baton-pipelines-"));
    writeFileSync(join(dir, "Dockerfile"), "FROM scratch\n");
    const steps = [
      "    steps:",
      "      - { name: image, build: api }",
      "      - { name: dev, deploy: { app: api, env: dev } }",
      "      - { name: prod, promote: { app: api, to: prod } }",
    ];
    const d = parseDefinition(
      yaml(
        ...APPS,
        "pipelines:",
        "  api:",
        "    source: { repo: . }",
        ...steps,
        "  ci:",
        "    source: { repo: . }",
        "    steps: [{ name: t, run: 'true' }]",
      ),
      join(dir, "baton.yaml"),
    );
    expect(d.pipelines.api?.home).toBe("dev");
    // Without a deploy step: the first environment declared runs it, once.
    expect(d.pipelines.ci?.home).toBe("dev");
    expect(d.environmentStates).toEqual({ prod: join(dir, ".baton-prod") });

    const without = APPS.map((line) => line.replace("prod: { state: .baton-prod }", "prod: {}"));
    const missing = refused(
      yaml(...without, "pipelines:", "  api:", "    source: { repo: . }", ...steps),
    );
    const ofPipelines = (e: SpecError) =>
      e.diagnostics.filter((d) => !d.code.startsWith("spec.dockerfile"));
    expect(ofPipelines(missing).map((d) => `${d.line}:${d.code}`)).toEqual([
      "18:spec.environment_state_missing",
    ]);
    expect(ofPipelines(missing)[0]?.hint).toBe(
      "give prod's controller its own state directory: `environments: { prod: { state: .baton-prod } }`, and run it with `baton up --env prod`",
    );
    const shared = APPS.map((line) =>
      line.replace("prod: { state: .baton-prod }", "prod: { state: ./.baton/ }"),
    );
    const same = refused(
      yaml(...shared, "pipelines:", "  api:", "    source: { repo: . }", ...steps),
    );
    expect(ofPipelines(same).map((d) => `${d.line}:${d.code} ${d.message}`)).toEqual([
      "11:spec.environment_state_shared environments.prod.state is .baton, the state directory of dev too: one state directory holds one environment",
    ]);
  });

  it("builds a process app as an artifact, but not an app that names its image", () => {
    const lines = [
      "apps:",
      "  web:",
      "    command: [node, server.js]",
      "  cache:",
      "    runtime: docker",
      "    image: redis:7",
      "    containerPort: 6379",
      "    command: [redis-server]",
      "environments: { dev: {} }",
      "pipelines:",
      "  web:",
      "    source: { repo: . }",
      "    steps:",
      "      - { name: files, build: web }",
      "      - { name: dev, deploy: { app: web, env: dev } }",
    ];
    const d = parseDefinition(yaml(...lines), "baton.yaml");
    expect(d.pipelines.web?.steps.map((s) => s.kind)).toEqual(["build", "deploy"]);

    const e = refused(yaml(...lines, "      - { name: redis, build: cache }"));
    expect(e.diagnostics.map((d) => `${d.line}:${d.col}:${d.code} ${d.message}`)).toEqual([
      "16:31:spec.app_without_build pipelines.web.steps[2].build builds cache, which runs the image redis:7 and has no `build:`",
    ]);
    expect(e.diagnostics[0]?.hint).toBe(
      "add `build: { context: . }` to apps.cache (in place of `image:`), so Baton knows how to build its image",
    );
  });

  it("takes a deploy with no build before it, but not of an app that names its image", () => {
    const lines = [
      "apps:",
      "  web:",
      "    command: [node, server.js]",
      "  cache:",
      "    runtime: docker",
      "    image: redis:7",
      "    containerPort: 6379",
      "    command: [redis-server]",
      "environments: { dev: {} }",
      "pipelines:",
      "  web:",
      "    source: { repo: . }",
      "    steps:",
      "      - { name: test, run: 'true' }",
      "      - { name: dev, deploy: { app: web, env: dev } }",
    ];
    const d = parseDefinition(yaml(...lines), "baton.yaml");
    expect(d.pipelines.web?.steps.map((s) => s.kind)).toEqual(["run", "deploy"]);

    const e = refused(yaml(...lines, "      - { name: redis, deploy: { app: cache, env: dev } }"));
    expect(e.diagnostics.map((d) => `${d.line}:${d.col}:${d.code} ${d.message}`)).toEqual([
      "16:39:spec.app_without_build pipelines.web.steps[2].deploy.app deploys cache, which runs the image redis:7 and has no `build:`: a pipeline deploys what it builds from the run's commit",
    ]);
    expect(e.diagnostics[0]?.hint).toBe(
      "add `build: { context: . }` to apps.cache (in place of `image:`) for the pipeline to build its image from each commit, or take this step out: `baton apply` rolls cache out when its `image:` changes",
    );
  });

  it("keeps the CLI's words out of pipeline names", () => {
    const e = refused(
      yaml(
        "pipelines:",
        "  logs:",
        "    source: { repo: . }",
        "    steps: [{ name: t, run: 'true' }]",
      ),
    );
    expect(e.diagnostics.map((d) => `${d.line}:${d.code}`)).toEqual(["2:spec.reserved_name"]);
  });

  it("keeps runs' files as retention says: defaults, days, sizes", () => {
    const d = parseDefinition(
      yaml(
        "pipelines:",
        "  api:",
        "    source: { repo: . }",
        "    retention: { runs: 2, maxAge: 1d12h, maxLogSize: 64Ki }",
        "    steps: [{ name: test, run: make test }]",
        "  site:",
        "    source: { repo: . }",
        "    retention: { maxAge: 36h }",
        "    steps: [{ name: test, run: make test }]",
        "  docs:",
        "    source: { repo: . }",
        "    steps: [{ name: test, run: make test }]",
      ),
      "baton.yaml",
    );
    expect(d.pipelines.api?.retention).toEqual({
      runs: 2,
      maxAgeMs: 36 * 3_600_000,
      maxLogBytes: 64 * 1024,
    });
    expect(d.pipelines.site?.retention).toEqual({
      runs: 50,
      maxAgeMs: 36 * 3_600_000,
      maxLogBytes: 10 * 1024 * 1024,
    });
    expect(d.pipelines.docs?.retention).toEqual({
      runs: 50,
      maxAgeMs: 30 * 86_400_000,
      maxLogBytes: 10 * 1024 * 1024,
    });
  });

  it("points at a retention that cannot hold, with what to write", () => {
    const e = refused(
      yaml(
        "pipelines:",
        "  api:",
        "    source: { repo: . }",
        "    retention: {runs: -1}",
        "    steps: [{ name: test, run: make test }]",
        "  site:",
        "    source: { repo: . }",
        "    retention: { maxAge: 30 days, maxLogSize: 10 mb, keep: 3 }",
        "    steps: [{ name: test, run: make test }]",
      ),
    );
    expect(e.diagnostics.map((d) => `${d.line}:${d.col}:${d.code} ${d.message}`)).toEqual([
      "4:23:spec.invalid_value pipelines.api.retention.runs must be a whole number ≥ 1, found the number -1",
      '8:26:spec.invalid_value pipelines.site.retention.maxAge must be a duration such as 30d, 36h or 1d12h, found the string "30 days"',
      '8:47:spec.invalid_value pipelines.site.retention.maxLogSize must be a size such as 512k, 10Mi or 1G, found the string "10 mb"',
      "8:54:spec.unknown_key pipelines.site.retention.keep is not a valid key; valid keys in pipelines.site.retention are runs, maxAge and maxLogSize",
    ]);
    expect(e.diagnostics.slice(0, 3).map((d) => d.hint)).toEqual([
      "write `runs: 20`",
      "write `maxAge: 30d`",
      "write `maxLogSize: 10M`",
    ]);
  });

  it("knows cron syntax: fields, ranges, steps, names", () => {
    for (const ok of [
      "0 3 * * *",
      "*/15 * * * *",
      "0 9-17 * * mon-fri",
      "0 0 1,15 jan,jul *",
      "30 0 3 * * 0",
      "0 0 * * 7",
    ]) {
      expect(validateCronExpression(ok), ok).toBeUndefined();
    }
    expect(validateCronExpression("0 25 * * *")).toBe(
      'its hour field "25" has "25", not a number from 0 to 23',
    );
    expect(validateCronExpression("0 3 * * mun")).toMatch(
      /day of week field "mun" has "mun", not a number or a name/,
    );
    expect(validateCronExpression("*/0 * * * *")).toBe(
      'its minute field "*/0" has the step "0", not a whole number ≥ 1',
    );
    expect(validateCronExpression("0 0 31 2 *")).toBe("it never fires (a day no month has?)");
    expect(validateCronExpression("0 5-3 * * *")).toBe(
      'its hour field "5-3" has the range 5-3, which runs backwards',
    );
  });
});
