/**
 * What Baton authenticates with: the identity file (a key without a passphrase: Baton does not
 * prompt) and the agent at SSH_AUTH_SOCK when there is one. A passphrase-protected key is used
 * through the agent (`ssh-add KEY`), never read here.
 */
import { readFileSync } from "node:fs";
// ssh2 is CommonJS: its named exports are reached through the default one.
import ssh2 from "ssh2";
import { TransportError } from "../transport.js";

export interface Identity {
  readonly privateKey?: Buffer;
  readonly agent?: string;
  /** For messages: the key file and/or the agent tried. */
  readonly description: string;
}

export function loadIdentity(
  host: string,
  identityFile: string | undefined,
  agent: string | undefined,
): Identity {
  const withAgent = agent !== undefined && agent !== "";
  if (identityFile === undefined) {
    if (withAgent) return { agent, description: `the agent's keys (SSH_AUTH_SOCK=${agent})` };
    throw new TransportError(
      "ssh.no_identity",
      host,
      "no SSH key to log in with: ssh.identityFile is not set and no agent runs (SSH_AUTH_SOCK is unset)",
      "set ssh.identityFile to the private key's absolute path, or start an agent and ssh-add the key",
    );
  }
  let text: Buffer;
  try {
    text = readFileSync(identityFile);
  } catch (error) {
    throw new TransportError(
      "ssh.no_identity",
      host,
      `cannot read the SSH key ${identityFile}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      "set ssh.identityFile to an existing private key (e.g. ~/.ssh/id_ed25519), readable by this user",
    );
  }
  const parsed = ssh2.utils.parseKey(text);
  if (parsed instanceof Error) {
    const encrypted = /passphrase/i.test(parsed.message);
    if (encrypted && withAgent) {
      return {
        agent,
        description: `the agent's keys (SSH_AUTH_SOCK=${agent}); ${identityFile} needs a passphrase`,
      };
    }
    throw new TransportError(
      "ssh.no_identity",
      host,
      encrypted
        ? `the SSH key ${identityFile} is protected by a passphrase, which Baton does not ask for`
        : `${identityFile} is not a private key Baton can use: ${parsed.message}`,
      encrypted
        ? `load it into an agent (eval "$(ssh-agent)"; ssh-add ${identityFile}) and run Baton with SSH_AUTH_SOCK set`
        : "point ssh.identityFile at an OpenSSH/PEM private key (ed25519, ecdsa or rsa)",
    );
  }
  return withAgent
    ? { privateKey: text, agent, description: `${identityFile} and the agent's keys` }
    : { privateKey: text, description: identityFile };
}
