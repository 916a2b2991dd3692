/** Where E2B's SDK is pointed: `E2B_API_URL=<server>/e2b`, `E2B_SANDBOX_URL=<server>/e2b/envd`. */
export const e2bPrefix = "/e2b";
export const envdPrefix = "/e2b/envd";
