/**
 * `GET /api/v1/secrets`: the applied definition's secrets by name, with who changed each and
 * when, and the apps that use it. Never a value, nor a ciphertext.
 */
export interface SecretSummary {
  readonly name: string;
  readonly changedBy: string;
  /** ISO 8601. */
  readonly changedAt: string;
  /** Apps whose replicas receive it. */
  readonly usedBy: readonly string[];
}

export interface SecretsAnswer {
  /** `default` for a definition without environments. */
  readonly environment: string;
  /** The secrets file as the client named it; null when the definition has none. */
  readonly file: string | null;
  /** The environment's public key (`age1…`); null without a secrets file. */
  readonly recipient: string | null;
  readonly secrets: readonly SecretSummary[];
}
