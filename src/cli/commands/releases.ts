import type { Command } from "commander";
import type { ReleaseJson } from "../../api/index.js";
import { clientFor } from "../connect.js";
import { type CommonOptions, withCommonOptions } from "../context.js";
import { formatAge, paint, printJson, say, table, useColor } from "../output.js";

/** Who made the release, and from which environment it came when it was promoted here. */
function madeBy(release: ReleaseJson): string {
  const from = release.details.importedFrom as { environment?: unknown } | undefined;
  return typeof from?.environment === "string"
    ? `${release.createdBy} (promoted from ${from.environment})`
    : release.createdBy;
}

export function releasesCommand(program: Command): void {
  withCommonOptions(program.command("releases <app>"))
    .description(
      "an app's releases, newest first; * marks the one serving (the deployed one, else the newest, unless a deploy was rolled back)",
    )
    .option(
      "--json",
      "{ app, deployed, serving, releases: [{ version, number, kind, digest, commit, createdAt, createdBy, details, … }] }",
    )
    .action(async (app: string, options: CommonOptions & { json?: boolean }) => {
      // Releases are a record: the controller's answer, else the same read of the store.
      const answer = await clientFor(options).releases(app);
      if (options.json) {
        printJson(answer);
        return;
      }
      const { releases, deployed, serving } = answer;
      if (releases.length === 0) {
        say(`${app} has no release yet: \`baton build ${app}\` makes one`);
        return;
      }
      const color = useColor();
      const now = Date.now();
      say(
        table([
          ["", "#", "VERSION", "DIGEST", "COMMIT", "AGE", "BY"].map((h) => paint(h, "bold", color)),
          ...releases.map((r) => [
            r.version === (serving ?? deployed) ? "*" : "",
            String(r.number),
            r.version,
            r.digest.slice(0, 19),
            r.commit?.slice(0, 12) ?? "-",
            formatAge(now - Date.parse(r.createdAt)),
            madeBy(r),
          ]),
        ]),
      );
      if (serving !== null && deployed !== null && serving !== deployed) {
        say(
          `${deployed} is deployed but was rolled back: ${serving} serves (see \`baton history ${app}\`)`,
        );
      }
    });
}
