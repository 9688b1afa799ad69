/**
 * The only door to age (X25519 recipients, armored files): what `/usr/bin/age -d -i KEY`
 * and `age -a -r age1…` read and write, so a secret can always be recovered without Baton.
 */
import {
  armor,
  Decrypter,
  Encrypter,
  generateX25519Identity,
  identityToRecipient,
} from "age-encryption";

export interface KeyPair {
  /** `AGE-SECRET-KEY-1…`: never leaves the key file or the controller's memory. */
  readonly identity: string;
  /** `age1…`: what anyone may encrypt to. */
  readonly recipient: string;
}

export async function generateKeyPair(): Promise<KeyPair> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/**
 * Recipients already derived by this process: deriving one is an X25519 scalar
 * multiplication in JavaScript (milliseconds), paid by the controller at every apply when it
 * reads its key. An environment has one key, so the map stays tiny; bounded all the same.
 */
const recipients = new Map<string, string>();
const MAX_RECIPIENTS = 16;

export async function recipientOf(identity: string): Promise<string> {
  const known = recipients.get(identity);
  if (known !== undefined) return known;
  const recipient = await identityToRecipient(identity);
  if (recipients.size >= MAX_RECIPIENTS) recipients.clear();
  recipients.set(identity, recipient);
  return recipient;
}

/** An armored age file (`-----BEGIN AGE ENCRYPTED FILE-----`) holding `text`. */
export async function encryptTo(recipient: string, text: string): Promise<string> {
  const encrypter = new Encrypter();
  encrypter.addRecipient(recipient);
  return armor.encode(await encrypter.encrypt(text));
}

/** The text of an armored age file; throws when `identity` is not one of its recipients. */
export async function decryptWith(identity: string, armored: string): Promise<string> {
  const decrypter = new Decrypter();
  decrypter.addIdentity(identity);
  return decrypter.decrypt(armor.decode(armored), "text");
}

export const ARMOR_START = "-----BEGIN AGE ENCRYPTED FILE-----";

export function isArmored(text: string): boolean {
  return text.trimStart().startsWith(ARMOR_START);
}
