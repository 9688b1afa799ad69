/**
 * The credential a pipeline's controller promotes into another environment with: a
 * `promoter` token of that environment's controller, scoped to the one app promoted. It
 * can import releases and deploy that app there, and nothing else: no approval, no secret,
 * no other app. It is made once, with the other controller's own token (both controllers run
 * as the same user on this machine), and kept in this state directory, readable by its
 * owner only; from then on only the scoped token is sent.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { errorBodyOf } from "../api/errors.js";
import { routes } from "../api/routes.js";
import type { CreateTokenAnswer } from "../api/tokens.js";
import { apiRequest } from "../server/api-request.js";

export interface PeerTokenOptions {
  /** This controller's state directory: where the credential is kept. */
  readonly stateDir: string;
  /** This controller's environment, in the token's name (`api-from-dev`). */
  readonly from: string | null;
  /** The environment promoted into. */
  readonly to: string;
  readonly app: string;
  readonly api: string;
  /** The other controller's own token: used only to make the scoped one. */
  readonly adminToken: string;
}

export function peerTokenPath(stateDir: string, to: string, app: string): string {
  return join(stateDir, "peer-tokens", `${to}.${app}`);
}

/** The scoped token for promoting `app` into `to`: the one kept, else a new one. */
export async function promoterToken(options: PeerTokenOptions): Promise<string> {
  const path = peerTokenPath(options.stateDir, options.to, options.app);
  try {
    const kept = readFileSync(path, "utf8").trim();
    if (kept !== "") return kept;
  } catch {
    // none made yet
  }
  const secret = await mint(options);
  mkdirSync(join(options.stateDir, "peer-tokens"), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}

async function mint(options: PeerTokenOptions): Promise<string> {
  const name = `promote-${options.app}-from-${options.from ?? "default"}`;
  const create = routes.createToken({
    name,
    role: "promoter",
    apps: [options.app],
    env: options.to,
  });
  const call = () =>
    apiRequest(options.api, options.adminToken, create.method, create.path, create.body);
  let answer = await call();
  if (answer.status === 409) {
    // Made before and its secret lost with this state directory: replaced.
    const revoke = routes.revokeToken(name);
    await apiRequest(options.api, options.adminToken, revoke.method, revoke.path);
    answer = await call();
  }
  if (answer.status !== 200) {
    const error = errorBodyOf(answer.body, answer.status);
    throw new Error(
      `${options.to}'s controller refused to make the promotion token ${name}: ${error.message}`,
    );
  }
  // The server answers the route with its type (api/routes.ts `answer`).
  const made: unknown = answer.body;
  return (made as CreateTokenAnswer).secret;
}
