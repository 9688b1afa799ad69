import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** What a new token starts with: recognisable in a leaked file or a secret scanner's rules. */
export const TOKEN_PREFIX = "baton_";

/** A new bearer token: 32 random bytes, hex. */
export function newTokenSecret(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString("hex")}`;
}

/**
 * The hash a token is kept as. A plain SHA-256, not a slow password hash (scrypt, argon2):
 * the token is 256 random bits, not something a person chose, so there is no dictionary to
 * try and a fast hash is as safe to keep; and the API checks it on every request, where a
 * deliberately slow hash would be paid each time.
 */
export function hashToken(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Compares two hex hashes of the same length in constant time. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}
