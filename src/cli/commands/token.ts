import type { Command } from "commander";
import type { TokenInfo, TokenRole } from "../../api/index.js";
import { recordedEnvironment } from "../../client/open.js";
import { clientFor } from "../connect.js";
import { type CommonOptions, stateDir, whoAmI, withCommonOptions } from "../context.js";
import { printJson, say, table } from "../output.js";

/**
 * `baton token create/ls/revoke`: through the controller's API (an admin token) while one
 * runs, on the state directory itself while none does.
 */
export function tokenCommand(program: Command): void {
  const token = program
    .command("token")
    .description(
      "API tokens per person or machine, each with a role (viewer, deployer, approver, admin)",
    );
  withCommonOptions(token.command("create <name>"))
    .description("make a token and print it, once: it is kept hashed")
    .requiredOption("--role <role>", "viewer | deployer | approver | admin | promoter")
    .option("--expires <duration>", "it stops working after this long: 30m, 12h, 90d, 2w")
    .option(
      "--app <name>",
      "an app a promoter token may import releases of and deploy (repeat for more)",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option("--json", "{ token, secret }")
    .action(
      async (
        name: string,
        options: CommonOptions & { role: string; expires?: string; app?: string[]; json?: boolean },
      ) => {
        const env = options.env ?? recordedEnvironment(stateDir(options));
        const answer = await clientFor(options).createToken(
          {
            name,
            // Checked by whoever keeps the tokens, with the list of roles in its error.
            role: options.role as TokenRole,
            ...(env === undefined ? {} : { env }),
            ...(options.expires === undefined ? {} : { expires: options.expires }),
            ...(options.app === undefined ? {} : { apps: options.app }),
          },
          { by: whoAmI() },
        );
        if (options.json) return printJson(answer);
        say(answer.secret);
        process.stderr.write(
          `token ${name} (${answer.token.role}${answer.token.expires === null ? "" : `, expires ${new Date(answer.token.expires).toISOString()}`}): shown once, keep it now; use it as BATON_TOKEN or \`Authorization: Bearer …\`\n`,
        );
      },
    );
  withCommonOptions(token.command("ls"))
    .description("the tokens: name, role, env, created, expires, last used (never the token)")
    .option("--json", "{ tokens }")
    .action(async (options: CommonOptions & { json?: boolean }) => {
      const answer = await clientFor(options).tokens();
      if (options.json) return printJson(answer);
      say(renderTokens(answer.tokens, Date.now()));
    });
  withCommonOptions(token.command("revoke <name>"))
    .description("stop a token from working, at once")
    .action(async (name: string, options: CommonOptions) => {
      await clientFor(options).revokeToken(name, { by: whoAmI() });
      say(`token ${name} revoked`);
    });
}

function renderTokens(tokens: readonly TokenInfo[], now: number): string {
  if (tokens.length === 0) return "no tokens";
  const when = (ms: number | null): string => (ms === null ? "-" : new Date(ms).toISOString());
  const rows = tokens.map((t) => [
    t.name,
    t.apps === null ? t.role : `${t.role} (${t.apps.join(", ")})`,
    t.env ?? "-",
    when(t.created),
    t.revoked !== null
      ? `revoked ${when(t.revoked)}`
      : t.expires !== null && t.expires <= now
        ? `expired ${when(t.expires)}`
        : when(t.expires),
    when(t.lastUsed),
  ]);
  return table([["NAME", "ROLE", "ENV", "CREATED", "EXPIRES", "LAST USED"], ...rows]);
}
