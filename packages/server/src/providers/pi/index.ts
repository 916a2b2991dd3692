export { PiParser } from "./pi-parser.js";
export { PiProvider, createPiProvider, piDefaultModel, piGatewayProvider, piInstall } from "./pi-provider.js";
