/* worker-sandbox.c: Landlock and a seccomp deny list for the worker child. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "worker-sandbox.h"

/* Landlock rights newer than the <linux/landlock.h> of older systems. */
#define LL_FS_REFER        (1ull << 13) /* ABI 2 */
#define LL_FS_TRUNCATE     (1ull << 14) /* ABI 3 */
#define LL_FS_IOCTL_DEV    (1ull << 15) /* ABI 5 */
#define LL_NET_BIND_TCP    (1ull << 0)  /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ull << 1)  /* ABI 4 */
#define LL_SCOPE_ABSTRACT  (1ull << 0)  /* ABI 6 */
#define LL_SCOPE_SIGNAL    (1ull << 1)  /* ABI 6 */
#define LL_FS_ABI1         ((1ull << 13) - 1)
#define LL_READ            (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

static const char *const readable[] = {"/usr", "/proc/self"};

static int landlock_allow(int ruleset, const char *path)
{
	struct landlock_path_beneath_attr pb = {.allowed_access = LL_READ};
	_cleanup_close_ int fd = open(path, O_PATH | O_CLOEXEC | O_DIRECTORY);

	if (fd < 0)
		return -errno;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
		return -errno;
	return 0;
}

/* The ABI (>= 1) that was applied, or a negative errno. */
static int sandbox_landlock(void)
{
	struct ll_ruleset_attr attr = {.handled_access_fs = LL_FS_ABI1};
	_cleanup_close_ int ruleset = -1;
	int abi, r;

	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0)
		return -errno;
	if (abi >= 2)
		attr.handled_access_fs |= LL_FS_REFER;
	if (abi >= 3)
		attr.handled_access_fs |= LL_FS_TRUNCATE;
	if (abi >= 4)
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
	if (abi >= 5)
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
	if (abi >= 6)
		attr.scoped = LL_SCOPE_ABSTRACT | LL_SCOPE_SIGNAL;
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (ruleset < 0)
		return -errno;
	for (size_t i = 0; i < ELEMENTSOF(readable); i++) {
		r = landlock_allow(ruleset, readable[i]);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		return -errno;
	return abi;
}

#if defined(__x86_64__)
#define SANDBOX_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SANDBOX_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef SANDBOX_ARCH

/* Denied outright (EPERM). */
static const int denied[] = {
    SYS_socket,
    SYS_connect,
    SYS_bind,
    SYS_listen,
    SYS_accept,
    SYS_accept4,
    SYS_execve,
    SYS_execveat,
    SYS_clone,
    SYS_clone3,
    SYS_ptrace,
    SYS_process_vm_readv,
    SYS_process_vm_writev,
    SYS_kill,
    SYS_tkill,
    SYS_pidfd_open,
    SYS_pidfd_getfd,
    SYS_pidfd_send_signal,
    SYS_process_madvise,
    SYS_kcmp,
    SYS_unshare,
    SYS_setns,
    SYS_mount,
    SYS_umount2,
    SYS_pivot_root,
    SYS_chroot,
    SYS_keyctl,
    SYS_add_key,
    SYS_request_key,
    SYS_bpf,
    SYS_perf_event_open,
    SYS_userfaultfd,
    SYS_io_uring_setup,
    SYS_io_uring_enter,
    SYS_io_uring_register,
    SYS_open_by_handle_at,
    SYS_name_to_handle_at,
    SYS_openat2,
    SYS_unlinkat,
    SYS_renameat2,
    SYS_mkdirat,
    SYS_linkat,
    SYS_symlinkat,
    SYS_fchmod,
    SYS_fchmodat,
    SYS_fchown,
    SYS_fchownat,
    SYS_truncate,
    SYS_ftruncate,
    SYS_utimensat,
    SYS_mknodat,
    SYS_setxattr,
    SYS_lsetxattr,
    SYS_fsetxattr,
    SYS_removexattr,
    SYS_lremovexattr,
    SYS_fremovexattr,
#ifdef __x86_64__
    SYS_fork,
    SYS_vfork,
    SYS_creat,
    SYS_unlink,
    SYS_rename,
    SYS_renameat,
    SYS_rmdir,
    SYS_mkdir,
    SYS_link,
    SYS_symlink,
    SYS_chmod,
    SYS_chown,
    SYS_lchown,
    SYS_utime,
    SYS_utimes,
    SYS_futimesat,
    SYS_mknod,
#endif
};

#define WRITE_FLAGS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)
#define ARG_LO(i)   (offsetof(struct seccomp_data, args[i]) + (BYTE_ORDER == BIG_ENDIAN ? 4 : 0))
#define RET_DENY    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))
#define RET_ALLOW   BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

struct prog {
	struct sock_filter f[256];
	unsigned short n;
};

static void emit(struct prog *p, struct sock_filter s)
{
	if (p->n < ELEMENTSOF(p->f))
		p->f[p->n] = s;
	p->n++;
}

/* Syscall nr: allowed when argument arg (low 32 bits) masked by mask is 0
 * (jset) or equals value (!jset); otherwise denied. */
static void emit_arg_rule(struct prog *p, int nr, unsigned arg, bool jset, uint32_t k)
{
	emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 4));
	emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LO(arg)));
	if (jset)
		emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, k, 0, 1));
	else
		emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, 1, 0));
	emit(p, (struct sock_filter)RET_DENY);
	emit(p, (struct sock_filter)RET_ALLOW);
}

static int sandbox_seccomp(void)
{
	struct prog p = {.n = 0};
	struct sock_fprog fprog;

	emit(&p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch)));
	emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_ARCH, 1, 0));
	emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
	emit(&p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr)));
#ifdef __x86_64__
	/* x32 system calls have their own numbers: none for us */
	emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1));
	emit(&p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
#endif
	for (size_t i = 0; i < ELEMENTSOF(denied); i++) {
		emit(&p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      (uint32_t)denied[i], 0, 1));
		emit(&p, (struct sock_filter)RET_DENY);
	}
	/* a rule that does not match leaves the number in the accumulator */
	emit_arg_rule(&p, SYS_openat, 2, true, WRITE_FLAGS);
#ifdef __x86_64__
	emit_arg_rule(&p, SYS_open, 1, true, WRITE_FLAGS);
#endif
	emit_arg_rule(&p, SYS_tgkill, 0, false, (uint32_t)getpid());
	emit_arg_rule(&p, SYS_prlimit64, 0, false, 0);
	emit(&p, (struct sock_filter)RET_ALLOW);
	if (p.n > ELEMENTSOF(p.f))
		return -E2BIG;
	fprog = (struct sock_fprog){.len = p.n, .filter = p.f};
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0)
		return -errno;
	return 0;
}

#else
static int sandbox_seccomp(void)
{
	return -EOPNOTSUPP; /* no deny list for this architecture */
}
#endif

unsigned worker_sandbox_apply(char *description, size_t size)
{
	unsigned bits = 0;
	int ll, sc;

	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	ll = sandbox_landlock();
#ifdef __SANITIZE_ADDRESS__
	sc = -EOPNOTSUPP; /* the sanitizers' runtime clones and ptraces */
	(void)sandbox_seccomp;
#else
	sc = sandbox_seccomp();
#endif
	if (ll > 0)
		bits |= WORKER_SANDBOX_LANDLOCK;
	if (sc >= 0)
		bits |= WORKER_SANDBOX_SECCOMP;
	if (ll > 0)
		snprintf(description, size, "landlock ABI %d, seccomp %s", ll,
			 sc >= 0 ? "deny list" : strerrorname_np(-sc));
	else
		snprintf(description, size, "landlock %s, seccomp %s", strerrorname_np(-ll),
			 sc >= 0 ? "deny list" : strerrorname_np(-sc));
	return bits;
}
