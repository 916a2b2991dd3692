/**
 * The seccomp program every jail runs under, as the raw classic-BPF array bwrap's `--seccomp FD` reads.
 * It refuses what Docker's default profile refuses to a container without extra capabilities (keyrings,
 * bpf, perf events, ptrace, mounts, namespaces, modules, clocks…) and lets everything else through, so
 * the agent CLIs, git and the PTY run as they do in a container.
 */

/** Syscalls refused with EPERM, by name; numbers per architecture below. */
export const refusedSyscalls = [
  "acct", "add_key", "bpf", "clock_adjtime", "clock_settime", "create_module", "delete_module", "finit_module",
  "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms", "get_mempolicy", "init_module", "io_uring_enter",
  "io_uring_register", "io_uring_setup", "ioperm", "iopl", "kcmp", "kexec_file_load", "kexec_load", "keyctl",
  "lookup_dcookie", "mbind", "mount", "mount_setattr", "move_mount", "move_pages", "name_to_handle_at",
  "nfsservctl", "open_by_handle_at", "open_tree", "perf_event_open", "pivot_root", "process_vm_readv",
  "process_vm_writev", "ptrace", "query_module", "quotactl", "quotactl_fd", "reboot", "request_key",
  "set_mempolicy", "setns", "settimeofday", "swapoff", "swapon", "sysfs", "_sysctl", "syslog", "umount2",
  "unshare", "uselib", "userfaultfd", "ustat",
] as const;

type SyscallTable = Partial<Record<(typeof refusedSyscalls)[number] | "clone" | "clone3", number>>;

// From the kernel's unistd_64.h; absent names do not exist on the architecture.
const x86_64: SyscallTable = {
  acct: 163, add_key: 248, bpf: 321, clock_adjtime: 305, clock_settime: 227, create_module: 174, delete_module: 176,
  finit_module: 313, fsconfig: 431, fsmount: 432, fsopen: 430, fspick: 433, get_kernel_syms: 177, get_mempolicy: 239,
  init_module: 175, io_uring_enter: 426, io_uring_register: 427, io_uring_setup: 425, ioperm: 173, iopl: 172,
  kcmp: 312, kexec_file_load: 320, kexec_load: 246, keyctl: 250, lookup_dcookie: 212, mbind: 237, mount: 165,
  mount_setattr: 442, move_mount: 429, move_pages: 279, name_to_handle_at: 303, nfsservctl: 180,
  open_by_handle_at: 304, open_tree: 428, perf_event_open: 298, pivot_root: 155, process_vm_readv: 310,
  process_vm_writev: 311, ptrace: 101, query_module: 178, quotactl: 179, quotactl_fd: 443, reboot: 169,
  request_key: 249, set_mempolicy: 238, setns: 308, settimeofday: 164, swapoff: 168, swapon: 167, sysfs: 139,
  _sysctl: 156, syslog: 103, umount2: 166, unshare: 272, uselib: 134, userfaultfd: 323, ustat: 136,
  clone: 56, clone3: 435,
};

// From asm-generic/unistd.h, which arm64 uses.
const aarch64: SyscallTable = {
  acct: 89, add_key: 217, bpf: 280, clock_adjtime: 266, clock_settime: 112, delete_module: 106, finit_module: 273,
  fsconfig: 431, fsmount: 432, fsopen: 430, fspick: 433, get_mempolicy: 236, init_module: 105, io_uring_enter: 426,
  io_uring_register: 427, io_uring_setup: 425, kcmp: 272, kexec_file_load: 294, kexec_load: 104, keyctl: 219,
  lookup_dcookie: 18, mbind: 235, mount: 40, mount_setattr: 442, move_mount: 429, move_pages: 239,
  name_to_handle_at: 264, nfsservctl: 42, open_by_handle_at: 265, open_tree: 428, perf_event_open: 241,
  pivot_root: 41, process_vm_readv: 270, process_vm_writev: 271, ptrace: 117, quotactl: 60, quotactl_fd: 443,
  reboot: 142, request_key: 218, set_mempolicy: 237, setns: 268, settimeofday: 170, swapoff: 225, swapon: 224,
  syslog: 116, umount2: 39, unshare: 97, userfaultfd: 282, clone: 220, clone3: 435,
};

const auditArchX86_64 = 0xc000003e;
const auditArchAarch64 = 0xc00000b7;
/** x32 syscalls share x86_64's arch value and set this bit in the number. */
const x32SyscallBit = 0x40000000;
/** CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET. */
const cloneNamespaceFlags = 0x7e020000;

const errnoEPERM = 1;
/** clone3 gets ENOSYS, as under Docker: its flags sit in memory a filter cannot read, and libc falls back to clone. */
const errnoENOSYS = 38;
const returnAllow = 0x7fff0000;
const returnErrno = 0x00050000;

// Classic BPF opcodes (linux/bpf_common.h).
const loadWordAbsolute = 0x20; // BPF_LD | BPF_W | BPF_ABS
const jumpEqual = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const jumpGreaterOrEqual = 0x35; // BPF_JMP | BPF_JGE | BPF_K
const jumpAnyBitSet = 0x45; // BPF_JMP | BPF_JSET | BPF_K
const returnConstant = 0x06; // BPF_RET | BPF_K

// Offsets in struct seccomp_data; args[0]'s low word comes first on these little-endian architectures.
const offsetNumber = 0;
const offsetArch = 4;
const offsetFirstArgument = 16;

interface Instruction {
  code: number;
  k: number;
  /** Labels jumped to when the test holds / fails; undefined: the next instruction. */
  whenTrue?: string;
  whenFalse?: string;
  label?: string;
}

function architectureBlock(prefix: string, table: SyscallTable, refuseX32: boolean): Instruction[] {
  const deny = `${prefix}-deny`;
  const allow = `${prefix}-allow`;
  const block: Instruction[] = [{ code: loadWordAbsolute, k: offsetNumber, label: prefix }];
  if (refuseX32) block.push({ code: jumpGreaterOrEqual, k: x32SyscallBit, whenTrue: deny });
  for (const name of refusedSyscalls) {
    const number = table[name];
    if (number !== undefined) block.push({ code: jumpEqual, k: number, whenTrue: deny });
  }
  block.push({ code: jumpEqual, k: table.clone3!, whenTrue: `${prefix}-enosys` });
  block.push({ code: jumpEqual, k: table.clone!, whenFalse: allow });
  block.push({ code: loadWordAbsolute, k: offsetFirstArgument });
  block.push({ code: jumpAnyBitSet, k: cloneNamespaceFlags, whenTrue: deny, whenFalse: allow });
  block.push({ code: returnConstant, k: returnAllow, label: allow });
  block.push({ code: returnConstant, k: returnErrno | errnoEPERM, label: deny });
  block.push({ code: returnConstant, k: returnErrno | errnoENOSYS, label: `${prefix}-enosys` });
  return block;
}

/** The program: x86_64 and aarch64 checked by their own tables, any other architecture refused outright. */
export function seccompProgram(): Buffer {
  const program: Instruction[] = [
    { code: loadWordAbsolute, k: offsetArch },
    { code: jumpEqual, k: auditArchX86_64, whenTrue: "x86_64" },
    { code: jumpEqual, k: auditArchAarch64, whenTrue: "aarch64", whenFalse: "other" },
    ...architectureBlock("x86_64", x86_64, true),
    ...architectureBlock("aarch64", aarch64, false),
    { code: returnConstant, k: returnErrno | errnoEPERM, label: "other" },
  ];
  const positions = new Map(program.flatMap((instruction, index) => (instruction.label ? [[instruction.label, index]] : [])));
  const offset = (from: number, label: string | undefined): number => {
    if (label === undefined) return 0;
    const distance = positions.get(label)! - from - 1;
    // Conditional jumps hold an 8-bit forward offset.
    if (distance < 0 || distance > 255) throw new Error(`seccomp jump to ${label} out of range`);
    return distance;
  };
  const buffer = Buffer.alloc(program.length * 8);
  program.forEach((instruction, index) => {
    buffer.writeUInt16LE(instruction.code, index * 8);
    buffer.writeUInt8(offset(index, instruction.whenTrue), index * 8 + 2);
    buffer.writeUInt8(offset(index, instruction.whenFalse), index * 8 + 3);
    buffer.writeUInt32LE(instruction.k >>> 0, index * 8 + 4);
  });
  return buffer;
}
