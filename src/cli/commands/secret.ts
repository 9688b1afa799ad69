/**
 * `baton secret set|ls|rm|rotate-key`: edits `secrets/<env>.age.yaml` beside the definition,
 * on this machine's disk, like editing the definition itself: the change reaches a
 * controller when it is applied (or committed and deployed). It imports security/secrets
 * directly because the file and the keys are the caller's, not a controller's.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { dirname, isAbsolute, relative } from "node:path";
import type { Command } from "commander";
import { parse } from "yaml";
import {
  DEFAULT_ENVIRONMENT,
  readSecrets,
  removeSecret,
  rotateKey,
  type SecretsPlace,
  secretsFilePath,
  setSecret,
} from "../../security/secrets/index.js";
import { type CommonOptions, definitionPath } from "../context.js";
import { CliError } from "../errors.js";
import { printJson, say, table, warn } from "../output.js";

type Options = Pick<CommonOptions, "file" | "env">;

export function secretCommand(program: Command): void {
  const secret = program
    .command("secret")
    .description("secrets encrypted with age in secrets/<env>.age.yaml beside the definition");
  withOptions(secret.command("set <name>"))
    .description("encrypt a value (read from stdin, one final newline dropped) as secret NAME")
    .option("--from-file <file>", "read the value from this file, byte for byte")
    .action(async (name: string, options: Options & { fromFile?: string }) => {
      const place = placeOf(options);
      const value =
        options.fromFile === undefined ? await readStdin() : readFileSync(options.fromFile, "utf8");
      const done = await setSecret(place, name, value, changedBy(place.file), new Date());
      if (done.createdKey !== undefined) {
        warn(
          `made the key pair of environment ${place.environment}: the private key is ${done.createdKey} (keep it out of git; the controller needs it)`,
        );
      }
      say(
        `secret ${name} ${done.replaced ? "changed" : "set"} in ${place.shown}; apply to roll out the apps that use it`,
      );
    });
  withOptions(secret.command("ls"))
    .description("the secrets' names, who changed each and when (never a value)")
    .option("--json", "{ environment, file, recipient, secrets: [{ name, changedBy, changedAt }] }")
    .action((options: Options & { json?: boolean }) => {
      const place = placeOf(options);
      const content = readSecrets(place);
      const secrets = Object.entries(content?.secrets ?? {})
        .map(([name, e]) => ({ name, changedBy: e.changedBy, changedAt: e.changedAt }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      if (options.json) {
        return printJson({
          environment: place.environment,
          file: place.shown,
          recipient: content?.recipient ?? null,
          secrets,
        });
      }
      if (secrets.length === 0) return say(`no secrets in ${place.shown}`);
      say(
        table([
          ["NAME", "CHANGED BY", "CHANGED AT"],
          ...secrets.map((s) => [s.name, s.changedBy, s.changedAt]),
        ]),
      );
    });
  withOptions(secret.command("rm <name>"))
    .description("remove secret NAME (definitions that still use it no longer validate)")
    .action((name: string, options: Options) => {
      const place = placeOf(options);
      removeSecret(place, name);
      say(`secret ${name} removed from ${place.shown}`);
    });
  withOptions(secret.command("rotate-key"))
    .description("a new key pair for the environment; every secret re-encrypted, the old key kept")
    .action(async (options: Options) => {
      const place = placeOf(options);
      const done = await rotateKey(place, new Date());
      say(
        `environment ${place.environment} has a new key (${done.recipient}) at ${done.path}; ${done.count} secret(s) re-encrypted in ${place.shown}`,
      );
      if (done.kept !== undefined) {
        say(
          `the old key is kept at ${done.kept}: remove it once every controller of ${place.environment} has the new one`,
        );
      }
    });
}

function withOptions(command: Command): Command {
  return command
    .option("-f, --file <file>", "the definition file", "baton.yaml")
    .option("--env <name>", "the environment whose secrets these are (required with environments)");
}

/** The secrets file of the environment chosen, checked against those the definition declares. */
function placeOf(options: Options): SecretsPlace {
  const file = definitionPath(options);
  const declared = declaredEnvironments(file);
  const chosen = options.env;
  if (chosen === undefined && declared.length > 0) {
    throw new CliError(
      "secrets.env_required",
      `${shown(file)} declares environments (${declared.join(", ")}): each has its own secrets and key`,
      `add --env ${declared[0]}`,
    );
  }
  if (chosen !== undefined && !declared.includes(chosen)) {
    throw new CliError(
      "secrets.unknown_environment",
      declared.length === 0
        ? `${shown(file)} declares no environments, so --env ${chosen} has no secrets`
        : `${shown(file)} declares no environment ${JSON.stringify(chosen)} (it declares ${declared.join(", ")})`,
      declared.length === 0 ? "leave out --env" : `choose one of ${declared.join(", ")}`,
    );
  }
  const environment = chosen ?? DEFAULT_ENVIRONMENT;
  const path = secretsFilePath(dirname(file), environment);
  return { environment, file: path, shown: shown(path) };
}

/**
 * The environments `environments:` declares, read without validating the rest: a secret
 * is often set for a reference that does not validate until it exists.
 */
function declaredEnvironments(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new CliError(
      "spec.file_not_found",
      `${shown(file)} does not exist: secrets live beside the definition`,
      "run this in the definition's folder, or pass -f FILE",
    );
  }
  const raw: unknown = parse(text);
  const environments =
    typeof raw === "object" && raw !== null && "environments" in raw ? raw.environments : undefined;
  return typeof environments === "object" && environments !== null ? Object.keys(environments) : [];
}

/** Who changes a secret: git's user of the definition's folder, else the login name. */
function changedBy(file: string): string {
  const git = (key: string): string => {
    try {
      return execFileSync("git", ["config", key], { cwd: dirname(file), encoding: "utf8" }).trim();
    } catch {
      return "";
    }
  };
  const name = git("user.name");
  const email = git("user.email");
  if (name !== "" || email !== "") return [name, email === "" ? "" : `<${email}>`].join(" ").trim();
  try {
    return process.env.USER || userInfo().username;
  } catch {
    return "unknown";
  }
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) warn("reading the value from stdin; end it with Ctrl-D");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

function shown(path: string): string {
  const inCwd = relative(process.cwd(), path);
  return inCwd !== "" && !inCwd.startsWith("..") && !isAbsolute(inCwd) ? inCwd : path;
}
