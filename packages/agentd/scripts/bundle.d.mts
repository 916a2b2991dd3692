export declare const agentdBundlePath: string;
export declare function bundleAgentd(): Promise<string>;
