/**
 * Configuring hosts over SSH: Baton against `ansible-playbook` (Debian's ansible-core), on the
 * same test hosts (Debian 12 containers running sshd, reached on 127.0.0.1 ports).
 *
 * Each host gets 100 resources: 50 directories and 50 small files, one in each. Baton: the
 * definition's `configure.all`, applied with `baton apply` (no controller: it configures the
 * hosts and exits). Ansible: the same as 100 tasks (file + copy), pipelining on, forks = the
 * number of hosts, host keys checked against the same known_hosts. Measured: the first run
 * (nothing there yet: each side's folder removed from every host before it) and the no-change
 * run right after. Also facts: `baton facts --json` against `ansible all -m setup`.
 * Goals: Baton's no-change run ≥ 20× faster than Ansible's, its first run ≥ 10× faster.
 *
 * Ansible takes minutes a run here, so it is run fewer times than Baton.
 *
 *   node --import tsx bench/hosts.ts [--hosts 5] [--trials 5] [--ansible-trials 2]
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { docker } from "../test/helpers/docker.js";
import { startHosts } from "../test/helpers/hosts.js";
import { BatonProject } from "./lib/baton-cli.js";
import { ratio, round, type Summary, spread, summarize } from "./lib/stats.js";
import { markdownTable, writeResults } from "./lib/table.js";

export interface HostsOptions {
  readonly hosts?: number;
  readonly trials?: number;
  /** Ansible's runs, at most `trials` (each takes minutes). */
  readonly ansibleTrials?: number;
  readonly resultsDir?: string;
  readonly log?: (line: string) => void;
}

export interface HostsSide {
  readonly first: Summary;
  readonly noChange: Summary;
  readonly facts: Summary;
}

export interface HostsResult {
  readonly name: "hosts";
  readonly at: string;
  readonly machine: {
    readonly cpus: number;
    readonly node: string;
    readonly ansible: string;
    readonly load: readonly [number, number];
  };
  readonly settings: {
    readonly hosts: number;
    readonly resourcesPerHost: number;
    readonly trials: number;
    readonly ansibleTrials: number;
  };
  readonly baton: HostsSide;
  readonly ansible: HostsSide;
  /** Ansible median / Baton median: how many times faster Baton is. */
  readonly speedup: { readonly first: number; readonly noChange: number; readonly facts: number };
  readonly goals: { readonly first: boolean; readonly noChange: boolean };
}

const DIRECTORIES = 50;
const GOAL_FIRST = 10;
const GOAL_NO_CHANGE = 20;

function run(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  cwd?: string,
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { env: { ...process.env, ...env }, cwd, maxBuffer: 64 * 1024 * 1024, timeout: 900_000 },
      (error, stdout, stderr) => {
        if (error)
          reject(
            new Error(`${command} ${args.join(" ")} failed: ${stderr || stdout || error.message}`),
          );
        else resolve(stdout);
      },
    );
  });
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await work();
  return performance.now() - t0;
}

function batonDefinition(
  hosts: { name: string; port: number }[],
  identityFile: string,
  knownHosts: string,
): string {
  const lines = ["hosts:"];
  for (const h of hosts)
    lines.push(`  ${h.name}: { address: 127.0.0.1, port: ${h.port}, user: root }`);
  lines.push(
    `ssh: { identityFile: ${JSON.stringify(identityFile)}, knownHosts: ${JSON.stringify(knownHosts)}, parallel: ${hosts.length} }`,
    "configure:",
    "  all:",
  );
  for (let i = 0; i < DIRECTORIES; i++) {
    lines.push(`    - directory: { path: /srv/baton-bench/d${i}, mode: "0755" }`);
  }
  for (let i = 0; i < DIRECTORIES; i++) {
    lines.push(
      `    - file: { path: /srv/baton-bench/d${i}/file.txt, content: "file ${i}\\n", mode: "0644" }`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function playbook(): string {
  const tasks: string[] = [];
  for (let i = 0; i < DIRECTORIES; i++) {
    tasks.push(
      `    - name: directory ${i}\n      ansible.builtin.file: { path: /srv/ansible-bench/d${i}, state: directory, mode: "0755" }`,
    );
  }
  for (let i = 0; i < DIRECTORIES; i++) {
    tasks.push(
      `    - name: file ${i}\n      ansible.builtin.copy: { dest: /srv/ansible-bench/d${i}/file.txt, content: "file ${i}\\n", mode: "0644" }`,
    );
  }
  return `- hosts: all\n  gather_facts: false\n  tasks:\n${tasks.join("\n")}\n`;
}

export async function hostsBench(options: HostsOptions = {}): Promise<HostsResult> {
  const count = options.hosts ?? 5;
  const trials = options.trials ?? 5;
  const ansibleTrials = Math.min(trials, options.ansibleTrials ?? 2);
  const log = options.log ?? (() => {});
  const loadBefore = loadavg()[0] ?? 0;
  const root = mkdtempSync(join(tmpdir(), "baton-bench-hosts-"));
  const fleet = await startHosts(count);
  const results = {
    baton: { first: [] as number[], noChange: [] as number[], facts: [] as number[] },
    ansible: { first: [] as number[], noChange: [] as number[], facts: [] as number[] },
  };
  let ansibleVersion = "unknown";
  try {
    ansibleVersion =
      /ansible-playbook \[core ([^\]]+)\]/.exec(
        await run("ansible-playbook", ["--version"]),
      )?.[1] ?? "unknown";
    const hosts = fleet.hosts.map((h) => ({ name: h.name, port: h.port }));
    const batonDir = join(root, "baton");
    mkdirSync(batonDir);
    writeFileSync(
      join(batonDir, "baton.yaml"),
      batonDefinition(hosts, fleet.identityFile, fleet.knownHosts),
    );
    const baton = new BatonProject(batonDir);

    const ansibleDir = join(root, "ansible");
    mkdirSync(ansibleDir);
    writeFileSync(
      join(ansibleDir, "inventory.ini"),
      `${hosts.map((h) => `${h.name} ansible_host=127.0.0.1 ansible_port=${h.port} ansible_user=root`).join("\n")}\n`,
    );
    writeFileSync(
      join(ansibleDir, "ansible.cfg"),
      `[defaults]
inventory = inventory.ini
forks = ${Math.max(5, count)}
host_key_checking = True
private_key_file = ${fleet.identityFile}
interpreter_python = /usr/bin/python3
stdout_callback = default
retry_files_enabled = False

[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${fleet.knownHosts} -o StrictHostKeyChecking=yes
`,
    );
    writeFileSync(join(ansibleDir, "playbook.yml"), playbook());
    const ansibleEnv = { ANSIBLE_CONFIG: join(ansibleDir, "ansible.cfg") };

    const clear = (dir: string) =>
      Promise.all(fleet.hosts.map((h) => docker(["exec", h.container, "rm", "-rf", dir])));

    for (let i = 1; i <= trials; i++) {
      // Baton: a fresh state (it remembers what it applied) and nothing on the hosts.
      await clear("/srv/baton-bench");
      rmSync(join(batonDir, ".baton"), { recursive: true, force: true });
      const bFirst = await timed(() => baton.cli(["apply", "--json"], 600_000));
      const bSame = await timed(async () => {
        const out = JSON.parse(await baton.cli(["apply", "--json"], 600_000)) as {
          hosts: { changed: unknown[]; unchanged: unknown[] }[];
        };
        const changed = out.hosts.reduce((n, h) => n + h.changed.length, 0);
        if (changed !== 0) throw new Error(`baton: the no-change run changed ${changed} resources`);
      });
      results.baton.first.push(bFirst);
      results.baton.noChange.push(bSame);
      log(
        `hosts: trial ${i} baton: first ${Math.round(bFirst)} ms, no change ${Math.round(bSame)} ms`,
      );

      if (i <= ansibleTrials) {
        await clear("/srv/ansible-bench");
        const aFirst = await timed(() =>
          run("ansible-playbook", ["playbook.yml"], ansibleEnv, ansibleDir),
        );
        const aSame = await timed(async () => {
          const out = await run("ansible-playbook", ["playbook.yml"], ansibleEnv, ansibleDir);
          if (!/changed=0\s/.test(out) || /changed=[1-9]/.test(out)) {
            throw new Error(`ansible: the no-change run changed something:\n${out.slice(-2000)}`);
          }
        });
        results.ansible.first.push(aFirst);
        results.ansible.noChange.push(aSame);
        log(
          `hosts: trial ${i} ansible: first ${Math.round(aFirst)} ms, no change ${Math.round(aSame)} ms`,
        );
      }
      results.baton.facts.push(await timed(() => baton.cli(["facts", "--json"], 300_000)));
      if (i <= ansibleTrials) {
        results.ansible.facts.push(
          await timed(() => run("ansible", ["all", "-m", "setup"], ansibleEnv, ansibleDir)),
        );
      }
      log(
        `hosts: trial ${i} facts: baton ${Math.round(results.baton.facts.at(-1) ?? 0)} ms${
          i <= ansibleTrials ? `, ansible ${Math.round(results.ansible.facts.at(-1) ?? 0)} ms` : ""
        }`,
      );
    }
  } finally {
    await fleet.stop();
    rmSync(root, { recursive: true, force: true });
  }
  const side = (r: { first: number[]; noChange: number[]; facts: number[] }): HostsSide => ({
    first: summarize(r.first),
    noChange: summarize(r.noChange),
    facts: summarize(r.facts),
  });
  const baton = side(results.baton);
  const ansible = side(results.ansible);
  const speedup = {
    first: ratio(ansible.first, baton.first),
    noChange: ratio(ansible.noChange, baton.noChange),
    facts: ratio(ansible.facts, baton.facts),
  };
  const result: HostsResult = {
    name: "hosts",
    at: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      node: process.version,
      ansible: ansibleVersion,
      load: [round(loadBefore), round(loadavg()[0] ?? 0)],
    },
    settings: { hosts: count, resourcesPerHost: DIRECTORIES * 2, trials, ansibleTrials },
    baton,
    ansible,
    speedup,
    goals: { first: speedup.first >= GOAL_FIRST, noChange: speedup.noChange >= GOAL_NO_CHANGE },
  };
  writeResults("hosts", renderHostsMarkdown(result), result, options.resultsDir);
  return result;
}

export function renderHostsMarkdown(r: HostsResult): string {
  const row = (what: string, b: Summary, a: Summary, speedup: number, goal: string) => [
    what,
    spread(b),
    spread(a),
    `${round(speedup)}×`,
    goal,
  ];
  return `# Hosts benchmark: Baton vs ansible-playbook

${r.at} — ${r.machine.cpus} CPUs, Node ${r.machine.node}, ansible-core ${r.machine.ansible}; load average ${r.machine.load[0]} before, ${r.machine.load[1]} after

${r.settings.hosts} Debian 12 hosts (containers running sshd, reached on 127.0.0.1), ${r.settings.resourcesPerHost} resources per host (50 directories, 50 small files). Baton: \`baton apply\` with no controller. Ansible: the same as ${r.settings.resourcesPerHost} tasks, pipelining on, forks ${Math.max(5, r.settings.hosts)}, ControlPersist. First run: nothing there yet; no-change run: right after. ${r.settings.trials} trials of Baton, ${r.settings.ansibleTrials} of Ansible (minutes each); median (min–max), ms.

${markdownTable(
  ["run", "Baton ms", "Ansible ms", "Baton faster by", "goal"],
  [
    row(
      "first run",
      r.baton.first,
      r.ansible.first,
      r.speedup.first,
      `≥ ${GOAL_FIRST}× — ${r.goals.first ? "met" : "NOT met"}`,
    ),
    row(
      "no-change run",
      r.baton.noChange,
      r.ansible.noChange,
      r.speedup.noChange,
      `≥ ${GOAL_NO_CHANGE}× — ${r.goals.noChange ? "met" : "NOT met"}`,
    ),
    row(
      "facts (`baton facts` vs `ansible -m setup`)",
      r.baton.facts,
      r.ansible.facts,
      r.speedup.facts,
      "—",
    ),
  ],
)}
`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      hosts: { type: "string", default: "5" },
      trials: { type: "string", default: "5" },
      "ansible-trials": { type: "string", default: "2" },
    },
  });
  hostsBench({
    hosts: Number(values.hosts),
    trials: Number(values.trials),
    ansibleTrials: Number(values["ansible-trials"]),
    log: (line) => process.stderr.write(`${line}\n`),
  }).then(
    (r) => process.stdout.write(`${renderHostsMarkdown(r)}\n`),
    (error: unknown) => {
      process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
