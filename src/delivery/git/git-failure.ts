import { DeliveryError } from "../errors.js";
import { redactUrl } from "./redact.js";
import type { GitResult } from "./run-git.js";

/**
 * A failed git command as the error a user can act on: which repository, what went wrong
 * (missing, refused credentials, unreachable, not trusted) and the command that shows it.
 */
export function gitFailure(result: GitResult, shownRepo: string, doing: string): DeliveryError {
  const stderr = redactUrl(result.stderr.trim());
  const detail = lastLines(stderr);
  const lsRemote = `git ls-remote ${shownRepo}`;
  if (/dubious ownership/i.test(stderr)) {
    return new DeliveryError(
      "repo-unsafe",
      `git refuses to read ${shownRepo}: it belongs to another user than the controller's`,
      `git config --global --add safe.directory ${shownRepo}`,
    );
  }
  if (/host key verification failed/i.test(stderr)) {
    return new DeliveryError(
      "auth-failed",
      `ssh does not know the host key of ${shownRepo}, so it refused to connect`,
      "add the host's key to the controller user's ~/.ssh/known_hosts (check it: ssh-keyscan HOST), then: " +
        lsRemote,
    );
  }
  if (
    /authentication failed|permission denied|could not read (username|password)|terminal prompts disabled|access denied|invalid credentials|HTTP Basic: Access denied|\b403\b|\b401\b/i.test(
      stderr,
    )
  ) {
    return new DeliveryError(
      "auth-failed",
      `${shownRepo} refused the controller's credentials while ${doing}: ${detail}`,
      `check the deploy key or token the controller's user has, then: ${lsRemote}`,
    );
  }
  if (
    /not a git repository|does not appear to be a git repository|repository (.* )?not found|no such file or directory|does not exist|\b404\b/i.test(
      stderr,
    )
  ) {
    return new DeliveryError(
      "repo-not-found",
      `no git repository at ${shownRepo} (while ${doing}): ${detail}`,
      `check the pipeline's source repo; ${lsRemote} must list its branches`,
    );
  }
  if (
    /could not resolve host|connection refused|connection timed out|network is unreachable|unable to access|did not finish within|could not connect/i.test(
      stderr,
    )
  ) {
    return new DeliveryError(
      "remote-unreachable",
      `cannot reach ${shownRepo} while ${doing}: ${detail}`,
      `check the network from the controller's host: ${lsRemote}`,
    );
  }
  return new DeliveryError(
    "git-failed",
    `git failed on ${shownRepo} while ${doing} (exit ${result.code}): ${detail}`,
    lsRemote,
  );
}

function lastLines(text: string): string {
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  return lines.slice(-3).join(" / ") || "(no message)";
}
