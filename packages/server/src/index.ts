export { startServer, version, type RunningServer, type StartServerOptions } from "./server.js";
export { createApp, type AppDependencies } from "./api/app.js";
export { loadConfig } from "./config/load-config.js";
export type { Config } from "./config/config-schema.js";
export { initStore, type InitStoreOptions, type InitStoreResult } from "./store/init-store.js";
export { createStore } from "./store/create-store.js";
