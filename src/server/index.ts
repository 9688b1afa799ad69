export { apiPortPath, rememberApiPort, rememberedApiPort } from "./api-port.js";
export { ApiServer, type ApiServerOptions } from "./api-server.js";
export { apiTokenPath, ensureApiToken, readApiToken } from "./api-token.js";
