import { resolve } from "node:path";
import type { Command } from "commander";
import { releaseJson } from "../../client/records.js";
import { loadDefinition } from "../../definition/index.js";
import { clientFor } from "../connect.js";
import {
  type CommonOptions,
  definitionPath,
  stateDir,
  whoAmI,
  withCommonOptions,
} from "../context.js";
import { CliError } from "../errors.js";
import { paint, printJson, say, useColor, warn } from "../output.js";

export function buildCommand(program: Command): void {
  withCommonOptions(program.command("build [app]"))
    .summary("build, tag, push and record a release of apps with `build:`")
    .description(
      "build an app's image through the Docker engine (every app with `build:` when none is named), tag it <registry>/<project>/<app>:<version>, push it and record the release; a version built before is not built again",
    )
    .option("--json", "machine-readable result: { releases: [...] }, progress on stderr")
    .action(async (app: string | undefined, options: CommonOptions & { json?: boolean }) => {
      const dir = stateDir(options);
      const definition = loadDefinition(definitionPath(options), { exclude: [resolve(dir)] });
      const built = Object.values(definition.apps)
        .filter((spec) => spec.build !== undefined)
        .map((spec) => spec.name);
      const apps = app === undefined ? built : [app];
      if (apps.length === 0) {
        throw new CliError(
          "build.nothing",
          `no app of ${definition.file} has \`build:\``,
          "add `build: ./folder` (a folder with a Dockerfile) and a top-level `registry:` to an app",
        );
      }
      const color = useColor();
      const output = options.json ? warn : say;
      // Built here, where the source is; recorded by the controller when one runs.
      const results = (
        await clientFor(options).build(definition, apps, { by: whoAmI(), output })
      ).map(({ release, created }) => {
        output(
          created
            ? `${paint("built", "green", color)} ${release.app} ${release.version}: ${release.ref} (${release.digest})`
            : `${release.app} ${release.version} unchanged: built and pushed before (${release.digest})`,
        );
        return { ...release, created };
      });
      if (options.json) {
        printJson({ releases: results.map((r) => ({ ...releaseJson(r), created: r.created })) });
        return;
      }
      const fresh = results.filter((r) => r.created);
      if (fresh.length > 0) {
        say(
          `run it: ${fresh.map((r) => `\`baton deploy ${r.app} --release ${r.version}\``).join(", ")} (\`baton up\`/\`apply\` run the newest release unless one was deployed)`,
        );
      }
    });
}
