export { ApiServer, type ApiServerOptions } from "./api-server.js";
export { apiTokenPath, ensureApiToken, readApiToken } from "./api-token.js";
