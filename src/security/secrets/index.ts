/**
 * security/secrets: age-encrypted secrets beside the definition, keys outside git, values
 * decrypted on the controller and held in memory only. Other modules import from here.
 */
export { decryptWith, encryptTo, generateKeyPair, type KeyPair } from "./age.js";
export { SecretsError } from "./errors.js";
export {
  describePlace,
  ensureKeyPair,
  type KeyEnv,
  keyPlace,
  readKeyPair,
  replaceKeyPair,
} from "./keys.js";
export {
  containerOwner,
  pruneReplicaFiles,
  removeAllReplicaFiles,
  removeReplicaFiles,
  secretFilesRoot,
  writeReplicaFiles,
} from "./replica-files.js";
export { sealSource, unsealSource } from "./sealed-source.js";
export {
  readSecrets,
  removeSecret,
  rotateKey,
  type SecretsPlace,
  setSecret,
} from "./secret-edits.js";
export {
  DEFAULT_ENVIRONMENT,
  formatSecretsFile,
  parseSecretsFile,
  type SecretEntry,
  type SecretsFile,
  secretsFilePath,
} from "./secrets-file.js";
export {
  digestKey,
  registryLogin,
  type SecretFile,
  SecretValues,
  secretDigestKeyPath,
  secretEnvOf,
  secretFilesOf,
  secretsOfApp,
  secretsSummary,
  unsealSecrets,
  usedSecrets,
  withSecretDigests,
  withSecretValues,
} from "./unsealed.js";
