/* worker-sandbox.h: the worker child locks itself in, once its rules are
 * loaded and before it reads any mail (private to worker.c).
 *
 * Landlock (best effort, by the kernel's ABI): files readable only beneath
 * /usr and the process's own /proc entry, nothing writable, no TCP, no
 * signals or ptrace outside the sandbox. seccomp (an allow-by-default BPF
 * deny list, EPERM): no sockets, exec, new processes, ptrace, kill of other
 * processes, namespaces, io_uring, bpf, or file creation, writing, renaming,
 * removal. Returns WORKER_SANDBOX_* bits of what holds and a description. */
#ifndef DIVEMAP_WORKER_SANDBOX_H
#define DIVEMAP_WORKER_SANDBOX_H

#define WORKER_SANDBOX_LANDLOCK 1u
#define WORKER_SANDBOX_SECCOMP  2u

unsigned worker_sandbox_apply(char *description, size_t size);

#endif
