export { createLocalArtifactStore, type LocalArtifactStoreConfig } from "./local-artifact-store.js";
