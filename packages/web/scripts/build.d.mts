/** Builds the UI into packages/web/dist; resolves with that directory. */
export declare function buildWeb(): Promise<string>;
/** Builds when dist/ holds no index.html or is older than a source file. */
export declare function ensureWebBuild(): Promise<string>;
