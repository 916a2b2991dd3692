/**
 * Variables that glibc's dynamic loader and libc act on before `main` (the ones it drops for setuid
 * programs): set for a program started on the host, they load a tenant's library or read and write host
 * files with that program's rights.
 */
const loaderNames = new Set([
  "GCONV_PATH",
  "GETCONF_DIR",
  "GLIBC_TUNABLES",
  "HOSTALIASES",
  "LOCALDOMAIN",
  "LOCPATH",
  "NIS_PATH",
  "NLSPATH",
  "RESOLV_HOST_CONF",
  "RES_OPTIONS",
  "TZDIR",
]);

/** The names in `env` that the host's loader would act on. */
export function loaderVariables(env: Record<string, string>): string[] {
  return Object.keys(env).filter((name) => name.startsWith("LD_") || name.startsWith("MALLOC_") || loaderNames.has(name));
}
