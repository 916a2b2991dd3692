import { CiabError, type ErrorCode } from "../protocol.js";

const codeByErrno: Record<string, ErrorCode> = {
  ENOENT: "file_not_found",
  ENOTDIR: "not_a_directory",
  EISDIR: "is_a_directory",
  ENOTEMPTY: "directory_not_empty",
  EEXIST: "already_exists",
  EACCES: "forbidden",
  EPERM: "forbidden",
  ENAMETOOLONG: "invalid_path",
  ELOOP: "invalid_path",
  EINVAL: "invalid_path",
  EXDEV: "invalid_request",
  ENOSPC: "payload_too_large",
};

/** Maps a Node fs error to the agent channel's code, naming the sandbox path (never the host path). */
export function fsError(error: unknown, sandboxPath: string): CiabError {
  if (error instanceof CiabError) return error;
  const errno = (error as NodeJS.ErrnoException).code ?? "";
  const code = codeByErrno[errno] ?? "internal";
  return new CiabError(code, `${sandboxPath}: ${describe(errno, error)}`, {
    cause: error,
    context: { path: sandboxPath, errno },
  });
}

function describe(errno: string, error: unknown): string {
  switch (errno) {
    case "ENOENT":
      return "no such file or directory";
    case "ENOTDIR":
      return "not a directory";
    case "EISDIR":
      return "is a directory";
    case "ENOTEMPTY":
      return "directory not empty";
    case "EEXIST":
      return "already exists";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    default:
      return errno || (error instanceof Error ? error.message : String(error));
  }
}
