import { resolve } from "node:path";
import type { Command } from "commander";
import { hookScript, installHook, isRemoteRepo, uninstallHook } from "../../client/hooks.js";
import { connect } from "../../client/open.js";
import { cliPath } from "../cli-path.js";
import { type CommonOptions, definitionPath, stateDir, withCommonOptions } from "../context.js";
import { loadForState } from "../definition.js";
import { CliError } from "../errors.js";
import { say } from "../output.js";

export function hooksCommand(program: Command): void {
  const hooks = program
    .command("hooks")
    .description("the git hooks that start pipeline runs on a push");
  withCommonOptions(hooks.command("install"))
    .description(
      "write a post-receive hook into each pipeline's repository (or --repo) that tells the controller of this state directory about pushes; an existing hook is kept and still runs first",
    )
    .option("--repo <path>", "a repository other than the pipelines' own")
    .action(async (options: CommonOptions & { repo?: string }) => {
      const dir = resolve(stateDir(options));
      const script = hookScript({ node: process.execPath, cli: cliPath(), stateDir: dir });
      for (const repo of repositories(options)) {
        const outcome = await installHook(repo, script);
        say(
          `${repo}: ${outcome === "unchanged" ? "the hook is already installed" : `hook ${outcome}`}`,
        );
      }
    });
  withCommonOptions(hooks.command("uninstall"))
    .description(
      "remove the hooks `baton hooks install` wrote (a hook that was there before comes back)",
    )
    .option("--repo <path>", "a repository other than the pipelines' own")
    .action(async (options: CommonOptions & { repo?: string }) => {
      for (const repo of repositories(options)) say(`${repo}: hook ${await uninstallHook(repo)}`);
    });
  hooks
    .command("notify", { hidden: true })
    .description("called by the hook: tells the controller that REF moved from OLD to NEW")
    .requiredOption("--state <dir>", "the controller's state directory")
    .requiredOption("--repo <path>", "the repository pushed to")
    .option("--pipeline <name>", "the pipeline the hook is for")
    .argument("<ref>")
    .argument("<old>")
    .argument("<new>")
    .action(
      async (ref: string, old: string, next: string, options: { state: string; repo: string }) => {
        const client = connect({ state: options.state });
        // The push has happened whatever Baton does: with no controller, polling finds it later.
        if (client.mode === "local")
          return say(`no controller runs for ${options.state}: the push is found when one starts`);
        const body = await client.notifyPush({ repo: options.repo, ref, old, new: next });
        say(
          `${ref} ${old.slice(0, 8)}..${next.slice(0, 8)}: ${body.pipelines.join(", ") || "no pipeline"}`,
        );
      },
    );
}

/** --repo, or every local repository the definition's pipelines read. */
function repositories(options: CommonOptions & { repo?: string }): string[] {
  if (options.repo !== undefined) return [resolve(options.repo)];
  const { definition } = loadForState(options);
  const repos = [
    ...new Set(
      Object.values(definition.pipelines)
        .map((p) => p.source.repo)
        .filter((r) => !isRemoteRepo(r)),
    ),
  ];
  if (repos.length === 0) {
    throw new CliError(
      "hooks.no_repository",
      `no pipeline of ${definitionPath(options)} reads a repository on this machine`,
      "pass --repo PATH, or install the hook on the server that holds the repository",
    );
  }
  return repos;
}
