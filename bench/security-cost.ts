/**
 * What security costs `baton apply` and `baton status` (issue 19's bench note): two projects
 * alike but for their apps' environment — plain values in one, `{ secret: NAME }` references
 * to age-encrypted values in the other — each with its controller, `apply` (no change) and
 * `status --json` run against both in turn, `repeats` times. The secrets project's apply
 * decrypts every value on the CLI side and again in the controller; both applies append to
 * the audit log. Then, alone: the controller's decryption of the definition's secrets
 * (`unsealSecrets`, as each apply runs it: the first in a process decrypts, later ones find
 * the values decrypted), and the audit append on the running controller's store (the API
 * writes it after the answer is sent: what a client sees of it is its CPU). Goal (issue 19):
 * the decryption and the audit write add < 5 % to `apply` and `status`; the whole difference
 * between the two projects (the secrets file parsed, the references' YAML) is reported too.
 *
 *   node --import tsx bench/security-cost.ts [--quick] [--repeats 15] [--values 10]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadDefinition } from "../src/definition/index.js";
import { unsealSecrets } from "../src/security/secrets/index.js";
import { SqliteStore } from "../src/store/index.js";
import { BATON_CLI, BatonProject } from "./lib/baton-cli.js";
import { freePort } from "./lib/net.js";
import { round, type Summary, spread, summarize } from "./lib/stats.js";
import { markdownTable, writeResults } from "./lib/table.js";
import { writeTinyApp } from "./lib/tiny-app.js";

const GOAL = 0.05;

export interface SecurityCostOptions {
  readonly repeats?: number;
  /** Environment values per app, plain in one project and secrets in the other. */
  readonly values?: number;
  readonly resultsDir?: string;
  readonly log?: (line: string) => void;
}

export interface SecurityCostResult {
  readonly name: "security-cost";
  readonly at: string;
  readonly machine: { readonly cpus: number; readonly node: string; readonly load: number[] };
  readonly settings: { readonly repeats: number; readonly values: number };
  readonly ms: {
    readonly applyPlain: Summary;
    readonly applySecrets: Summary;
    readonly statusPlain: Summary;
    readonly statusSecrets: Summary;
    readonly auditAppend: Summary;
    /** The first decryption in a process (a controller's first apply, or a changed value). */
    readonly decryptFirst: number;
    /** Each later apply's `unsealSecrets`: the values are known. */
    readonly decrypt: Summary;
  };
  readonly added: {
    /** Secrets' apply / plain apply − 1, medians: everything secrets bring, for information. */
    readonly apply: number;
    readonly status: number;
    /** Decryption and the audit append per apply, over the plain apply's median. */
    readonly decryptAndAuditOfApply: number;
    /** The audit append's median over the apply's median. */
    readonly auditOfApply: number;
  };
  readonly goal: { readonly goal: number; readonly met: boolean };
}

async function project(
  kind: "plain" | "secrets",
  values: number,
  keyFile: string,
): Promise<BatonProject> {
  const dir = mkdtempSync(join(tmpdir(), `baton-security-bench-${kind}-`));
  const app = writeTinyApp(dir);
  const env = Array.from({ length: values }, (_, i) =>
    kind === "plain"
      ? `      VALUE_${i}: plain-value-${i}`
      : `      VALUE_${i}: { secret: value-${i} }`,
  );
  writeFileSync(
    join(dir, "baton.yaml"),
    [
      "apps:",
      "  web:",
      `    command: ["${process.execPath}", ${JSON.stringify(app)}]`,
      "    replicas: 2",
      `    port: ${await freePort()}`,
      "    env:",
      ...env,
      "",
    ].join("\n"),
  );
  if (kind === "secrets") {
    for (let i = 0; i < values; i++) {
      execFileSync(process.execPath, [BATON_CLI, "secret", "set", `value-${i}`], {
        cwd: dir,
        input: `secret-value-${i}\n`,
        env: { ...process.env, BATON_AGE_KEY_FILE: keyFile, NO_COLOR: "1" },
        stdio: ["pipe", "ignore", "pipe"],
      });
    }
  }
  const p = new BatonProject(dir);
  await p.up();
  return p;
}

async function timedCli(p: BatonProject, args: readonly string[]): Promise<number> {
  const started = performance.now();
  await p.cli(args);
  return performance.now() - started;
}

export async function securityCostBench(
  options: SecurityCostOptions = {},
): Promise<SecurityCostResult> {
  const repeats = options.repeats ?? 15;
  const values = options.values ?? 10;
  const log = options.log ?? (() => {});
  const keys = mkdtempSync(join(tmpdir(), "baton-security-bench-keys-"));
  const keyFile = join(keys, "default.age");
  const previousKey = process.env.BATON_AGE_KEY_FILE;
  // The controllers `up` starts read the key from their environment, as a user's would.
  process.env.BATON_AGE_KEY_FILE = keyFile;
  const projects: BatonProject[] = [];
  try {
    const plain = await project("plain", values, keyFile);
    projects.push(plain);
    const secrets = await project("secrets", values, keyFile);
    projects.push(secrets);
    const samples = { applyPlain: [], applySecrets: [], statusPlain: [], statusSecrets: [] } as {
      [K in "applyPlain" | "applySecrets" | "statusPlain" | "statusSecrets"]: number[];
    };
    for (let i = 0; i < repeats; i++) {
      // Alternating which goes first, so a drift of the machine hits both alike.
      const order = i % 2 === 0 ? (["plain", "secrets"] as const) : (["secrets", "plain"] as const);
      for (const kind of order) {
        const p = kind === "plain" ? plain : secrets;
        const apply = await timedCli(p, ["apply"]);
        const status = await timedCli(p, ["status", "--json"]);
        if (kind === "plain") {
          samples.applyPlain.push(apply);
          samples.statusPlain.push(status);
        } else {
          samples.applySecrets.push(apply);
          samples.statusSecrets.push(status);
        }
      }
      log(`security-cost: round ${i + 1}/${repeats}`);
    }
    // The statement the API runs after each mutating call, on the running controller's file.
    const store = SqliteStore.open(secrets.stateDir, { create: false });
    const appends: number[] = [];
    try {
      for (let i = 0; i < Math.max(repeats, 20); i++) {
        const started = performance.now();
        store.audit.append({
          who: "bench",
          role: "admin",
          action: "POST /api/v1/apply",
          target: null,
          outcome: 200,
          address: "127.0.0.1",
        });
        appends.push(performance.now() - started);
      }
    } finally {
      store.close();
    }
    // What each apply of the controller runs, in this process as in a controller's.
    const definition = loadDefinition(join(secrets.dir, "baton.yaml"));
    let started = performance.now();
    const first = await unsealSecrets(definition);
    const decryptFirst = performance.now() - started;
    if (first.size !== values) throw new Error(`decrypted ${first.size} secrets, not ${values}`);
    const decrypts: number[] = [];
    for (let i = 0; i < Math.max(repeats, 20); i++) {
      started = performance.now();
      await unsealSecrets(definition);
      decrypts.push(performance.now() - started);
    }
    const ms = {
      applyPlain: summarize(samples.applyPlain),
      applySecrets: summarize(samples.applySecrets),
      statusPlain: summarize(samples.statusPlain),
      statusSecrets: summarize(samples.statusSecrets),
      auditAppend: summarize(appends),
      decryptFirst,
      decrypt: summarize(decrypts),
    };
    const added = {
      apply: ms.applySecrets.median / ms.applyPlain.median - 1,
      status: ms.statusSecrets.median / ms.statusPlain.median - 1,
      auditOfApply: ms.auditAppend.median / ms.applyPlain.median,
      decryptAndAuditOfApply: (ms.decrypt.median + ms.auditAppend.median) / ms.applyPlain.median,
    };
    const result: SecurityCostResult = {
      name: "security-cost",
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version, load: loadavg().slice(0, 2) },
      settings: { repeats, values },
      ms,
      added,
      goal: {
        goal: GOAL,
        // `status` decrypts nothing; an apply pays one unsealSecrets and one audit append.
        met: added.decryptAndAuditOfApply < GOAL,
      },
    };
    if (options.resultsDir !== undefined || options.log !== undefined) {
      writeResults("security-cost", renderSecurityCostMarkdown(result), result, options.resultsDir);
    }
    return result;
  } finally {
    for (const p of projects) {
      await p.down(undefined, log);
      rmSync(p.dir, { recursive: true, force: true });
    }
    if (previousKey === undefined) delete process.env.BATON_AGE_KEY_FILE;
    else process.env.BATON_AGE_KEY_FILE = previousKey;
    rmSync(keys, { recursive: true, force: true });
  }
}

export function renderSecurityCostMarkdown(r: SecurityCostResult): string {
  const pct = (x: number) => `${round(100 * x)} %`;
  return [
    "# security-cost — secrets and the audit log in `apply` and `status`",
    "",
    `${r.at}, ${r.machine.cpus} CPUs, Node ${r.machine.node}, load ${r.machine.load.join(" / ")}; ` +
      `${r.settings.repeats} rounds, one app with ${r.settings.values} environment values.`,
    "",
    markdownTable(
      ["ms, median (min–max)", "plain values", "secrets", "added"],
      [
        [
          "`baton apply` (no change)",
          spread(r.ms.applyPlain),
          spread(r.ms.applySecrets),
          pct(r.added.apply),
        ],
        [
          "`baton status --json`",
          spread(r.ms.statusPlain),
          spread(r.ms.statusSecrets),
          pct(r.added.status),
        ],
        ["audit append alone", spread(r.ms.auditAppend, 3), "", pct(r.added.auditOfApply)],
        [
          "decryption alone, each apply (`unsealSecrets`)",
          "",
          spread(r.ms.decrypt, 3),
          pct(r.ms.decrypt.median / r.ms.applyPlain.median),
        ],
        ["decryption alone, first in a process", "", round(r.ms.decryptFirst), ""],
      ],
    ),
    "",
    `Goal: decryption and the audit append under ${pct(r.goal.goal)} of an apply ` +
      `(${pct(r.added.decryptAndAuditOfApply)}) — ${r.goal.met ? "met" : "NOT met"}. The ` +
      "whole difference between the projects (the secrets file parsed by the CLI and the " +
      "controller, the references' YAML) is the `added` of the first two rows.",
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      repeats: { type: "string" },
      values: { type: "string" },
    },
  });
  const quick = values.quick === true;
  const result = await securityCostBench({
    repeats: Number(values.repeats ?? (quick ? 3 : 15)),
    values: Number(values.values ?? 10),
    ...(quick ? { resultsDir: mkdtempSync(join(tmpdir(), "baton-bench-quick-")) } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(renderSecurityCostMarkdown(result));
}
