export declare const cliDistDirectory: string;
export declare const cliSourceDirectories: string[];
export declare function newestSourceTime(directories?: string[]): number;
export declare function buildCli(): Promise<string>;
