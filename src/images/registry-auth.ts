/**
 * The Docker Engine's X-Registry-Auth header: base64url of `{ username, password,
 * serveraddress }`, or of `{}` for a registry that takes anonymous pushes and pulls (the
 * engine wants the header either way). The header is built per call and never logged.
 */

export interface RegistryLogin {
  readonly username: string;
  /** The decrypted secret. */
  readonly password: string;
}

/** `repository` is `host[:port]/path…`: the engine matches the login to its host. */
export function registryAuthHeader(login: RegistryLogin | undefined, repository: string): string {
  const body =
    login === undefined
      ? {}
      : {
          username: login.username,
          password: login.password,
          serveraddress: repository.split("/")[0] ?? repository,
        };
  return Buffer.from(JSON.stringify(body)).toString("base64url");
}
