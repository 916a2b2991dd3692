// Where the built UI lives; the server imports only this, never the build tooling.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const webPackageDirectory = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
export const webDistDirectory = path.join(webPackageDirectory, "dist");
