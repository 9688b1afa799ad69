import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { DockerEngine, DockerRuntime } from "../../runtime/docker/index.js";
import { readLogLines } from "../../runtime/process/log-files.js";
import { type ReplicaRecord, SqliteStore } from "../../store/index.js";
import { delay } from "../../util/wait.js";
import { type CommonOptions, stateDir, withCommonOptions } from "../context.js";
import { CliError } from "../errors.js";
import { paint, useColor } from "../output.js";
import { printServiceLogs } from "../service-logs.js";
import { durationOption } from "./wait.js";

export function logsCommand(program: Command): void {
  // -f is --follow here (as in tail, docker and kubectl logs); the definition is --file.
  withCommonOptions(program.command("logs <app>"), false)
    .option("--file <file>", "the definition file (locates the state directory)", "baton.yaml")
    .description("the output of an app's replicas (stdout and stderr, interleaved as written)")
    .option("-f, --follow", "keep printing as replicas write")
    .option(
      "--since <duration>",
      "only what was written within this long (e.g. 5m; exact to about 2s)",
    )
    .option("--tail <lines>", "the last N lines of each replica")
    .option("--all", "also replicas that no longer run")
    .action(
      async (
        app: string,
        options: CommonOptions & { follow?: boolean; since?: string; tail?: string; all?: boolean },
      ) => {
        const dir = stateDir(options);
        const appDir = join(dir, "logs", app);
        const since =
          options.since === undefined
            ? undefined
            : Date.now() - durationOption("--since", options.since);
        const tail = options.tail === undefined ? undefined : Number(options.tail);
        if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) {
          throw new CliError(
            "logs.invalid_tail",
            `--tail must be a whole number, found ${JSON.stringify(options.tail)}`,
          );
        }
        const follow = options.follow === true;
        const asService = { follow, ...(since === undefined ? {} : { since }) };
        if (
          await printServiceLogs(dir, app, {
            ...asService,
            ...(tail === undefined ? {} : { tail }),
          })
        )
          return;
        const engineKept = options.all ? await keptContainers(dir, app) : new Set<string>();
        const fromEngine = (id: string): boolean =>
          engineKept.has(id) || containerIds(dir, app).has(id);
        const ids = [
          ...new Set([...replicaIds(dir, app, appDir, options.all === true), ...engineKept]),
        ].sort();
        if (ids.length === 0) {
          throw new CliError(
            "logs.no_replicas",
            `no logs for an app named ${JSON.stringify(app)} in ${dir}`,
            "`baton status` lists the apps; --all includes replicas that no longer run",
          );
        }
        const color = useColor();
        const width = Math.max(app.length + 14, ...ids.map((id) => id.length));
        const abort = new AbortController();
        process.once("SIGINT", () => abort.abort());
        const following = new Map<string, Promise<void>>();
        const print = (id: string, first: boolean): Promise<void> => {
          const prefix =
            ids.length > 1 || options.follow ? `${paint(id.padEnd(width), "cyan", color)} | ` : "";
          return (async () => {
            const read = {
              ...(since !== undefined && first ? { since } : {}),
              ...(tail !== undefined && first ? { tail } : {}),
              follow: options.follow === true,
              signal: abort.signal,
            };
            // A container's output is the engine's to keep; a process's is in its file.
            const lines = fromEngine(id)
              ? new DockerRuntime({ stateDir: dir }).logs({ id, app }, read)
              : readLogLines(join(appDir, `${id}.log`), read);
            for await (const line of lines) process.stdout.write(`${prefix}${line.line}\n`);
          })();
        };
        for (const id of ids) following.set(id, print(id, true));
        // Following an app follows its replicas as they come: a replacement's output too.
        while (options.follow && !abort.signal.aborted) {
          await delay(500, abort.signal);
          for (const id of replicaIds(dir, app, appDir, options.all === true)) {
            if (!following.has(id)) following.set(id, print(id, false));
          }
        }
        await Promise.all(following.values());
      },
    );
}

/**
 * With --all: container replicas whose containers the engine still keeps, exited ones too
 * (the store forgets a replica when it exits; the engine keeps its last few containers).
 */
async function keptContainers(dir: string, app: string): Promise<Set<string>> {
  if (!existsSync(new DockerEngine().socketPath)) return new Set();
  const runtime = new DockerRuntime({ stateDir: dir });
  try {
    return new Set(await runtime.keptReplicas(app));
  } catch {
    return new Set(); // no engine answers: only the replicas' files are shown
  } finally {
    await runtime.close();
  }
}

/**
 * Replicas that run now (from the store), or every replica with a log file (--all); a
 * container replica's output is read from the engine while it runs.
 */
function replicaIds(dir: string, app: string, appDir: string, all: boolean): string[] {
  const files = existsSync(appDir)
    ? readdirSync(appDir)
        .filter((f) => f.endsWith(".log"))
        .map((f) => f.slice(0, -4))
    : [];
  const containers = [...containerIds(dir, app)];
  if (!existsSync(join(dir, "state.db"))) return files.sort();
  if (all) return [...new Set([...files, ...containers])].sort();
  const live = new Set(storedReplicas(dir, app).map((r) => r.id));
  return [...new Set([...files.filter((id) => live.has(id)), ...containers])].sort();
}

function containerIds(dir: string, app: string): Set<string> {
  if (!existsSync(join(dir, "state.db"))) return new Set();
  return new Set(
    storedReplicas(dir, app)
      .filter((r) => r.runtime === "docker")
      .map((r) => r.id),
  );
}

function storedReplicas(dir: string, app: string): ReplicaRecord[] {
  const store = SqliteStore.open(dir, { create: false });
  try {
    return store.replicas(app);
  } finally {
    store.close();
  }
}
