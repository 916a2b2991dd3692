/** Builds the UI into packages/web/dist; resolves with that directory. */
export declare function buildWeb(): Promise<string>;
/** Builds only when dist/ holds no index.html. */
export declare function ensureWebBuild(): Promise<string>;
