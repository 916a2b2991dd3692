export declare const agentdBundlePath: string;
export declare function bundleAgentd(): Promise<string>;
export declare const artifactCommandPath: string;
export declare const profileSnippetPath: string;
