export { createClamdScanner, type ClamdScannerConfig } from "./clamd-scanner.js";
export type { Scanner, ScanResult, ScanTap } from "./scanner.js";
