export declare const webPackageDirectory: string;
/** `packages/web/dist`: what `npm run build -w @ciab/web` writes and the server serves at `/`. */
export declare const webDistDirectory: string;
