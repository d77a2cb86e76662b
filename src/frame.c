/* frame.c: the frames of frame.h, their socket I/O and sealed memfds. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "frame.h"

#define FRAME_SEALS   (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#define FRAME_MAX_FDS 4 /* room for a misbehaving peer's extra fds, all closed */

uint64_t frame_now_us(void)
{
	return clock_now_us();
}

void frame_begin(struct frame *f, uint32_t type, uint32_t id)
{
	static const char zero[FRAME_HEADER_SIZE];

	*f = FRAME_INIT;
	f->type = type;
	f->id = id;
	buf_init(&f->buf, FRAME_HEADER_SIZE + FRAME_MAX_RESULT);
	/* cannot fail short of memory; frame_add_* reports that */
	if (buf_append(&f->buf, zero, sizeof(zero)) < 0)
		buf_done(&f->buf);
}

static int frame_add(struct frame *f, const void *p, size_t n)
{
	if (f->buf.len < FRAME_HEADER_SIZE)
		return -ENOMEM; /* frame_begin could not allocate the header */
	return buf_append(&f->buf, p, n);
}

int frame_add_u32(struct frame *f, uint32_t v)
{
	return frame_add(f, &v, sizeof(v));
}

int frame_add_u64(struct frame *f, uint64_t v)
{
	return frame_add(f, &v, sizeof(v));
}

int frame_add_str(struct frame *f, const char *s)
{
	if (!s)
		s = "";
	return frame_add(f, s, strlen(s) + 1);
}

int frame_add_bytes(struct frame *f, const void *p, size_t n)
{
	uint32_t n32 = (uint32_t)n;
	int r;

	if (n > FRAME_MAX_RESULT)
		return -E2BIG;
	r = frame_add(f, &n32, sizeof(n32));
	if (r < 0)
		return r;
	r = frame_add(f, p, n);
	if (r < 0)
		f->buf.len -= sizeof(n32);
	return r;
}

static int send_some(int sock, const char *p, size_t n, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = {.iov_base = (void *)p, .iov_len = n};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t k;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = sizeof(control.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		k = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (k < 0 && errno == EINTR);
	return k < 0 ? -errno : (int)(k > INT32_MAX ? INT32_MAX : k);
}

int frame_send(int sock, struct frame *f, int fd)
{
	uint32_t hdr[3];
	size_t done = 0;

	if (f->buf.len < FRAME_HEADER_SIZE)
		return -ENOMEM;
	hdr[0] = f->type;
	hdr[1] = (uint32_t)(f->buf.len - FRAME_HEADER_SIZE);
	hdr[2] = f->id;
	memcpy(f->buf.data, hdr, sizeof(hdr));
	while (done < f->buf.len) {
		int k = send_some(sock, f->buf.data + done, f->buf.len - done, done ? -1 : fd);

		if (k < 0)
			return k;
		done += (size_t)k;
	}
	return 0;
}

int frame_parse_header(const void *p, size_t n, size_t max, uint32_t *ret_type, uint32_t *ret_len,
		       uint32_t *ret_id)
{
	uint32_t hdr[3];

	if (n < FRAME_HEADER_SIZE)
		return -EAGAIN;
	memcpy(hdr, p, sizeof(hdr));
	if (hdr[1] > max)
		return -ERANGE;
	*ret_type = hdr[0];
	*ret_len = hdr[1];
	*ret_id = hdr[2];
	return 0;
}

/* Gives f a buffer for the header in hdr and its payload of len bytes. */
static int frame_alloc(struct frame *f, const void *hdr, uint32_t len)
{
	size_t total = FRAME_HEADER_SIZE + (size_t)len;
	char *p = malloc(total + 1);

	if (!p)
		return -ENOMEM;
	memcpy(p, hdr, FRAME_HEADER_SIZE);
	p[total] = '\0';
	f->buf = (struct buf){.data = p, .len = total, .cap = total + 1, .max = total};
	f->pos = FRAME_HEADER_SIZE;
	return 0;
}

int frame_parse(const void *p, size_t n, size_t max, struct frame *ret)
{
	struct frame f = FRAME_INIT;
	int r;

	r = frame_parse_header(p, n, max, &f.type, &f.len, &f.id);
	if (r == -EAGAIN)
		return -EBADMSG;
	if (r < 0)
		return r;
	if (n != FRAME_HEADER_SIZE + (size_t)f.len)
		return -EBADMSG;
	r = frame_alloc(&f, p, f.len);
	if (r < 0)
		return r;
	memcpy(f.buf.data + FRAME_HEADER_SIZE, (const char *)p + FRAME_HEADER_SIZE, f.len);
	*ret = f;
	return 0;
}

static int wait_readable(int sock, uint64_t deadline_us)
{
	struct pollfd pfd = {.fd = sock, .events = POLLIN};
	int r;

	if (deadline_us == 0)
		return 0;
	for (;;) {
		uint64_t now = frame_now_us();
		int ms;

		if (now >= deadline_us)
			return -ETIMEDOUT;
		ms = (int)((deadline_us - now + 999) / 1000);
		r = poll(&pfd, 1, ms);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* Keeps the first fd of the frame in *fd; any other fd is closed and makes
 * the frame bad. */
static int take_fds(struct msghdr *mh, bool first, int *fd)
{
	int r = 0;

	if (mh->msg_flags & MSG_CTRUNC)
		r = -EBADMSG;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int x;

			memcpy(&x, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (first && *fd < 0) {
				*fd = x;
				continue;
			}
			close(x);
			r = -EBADMSG;
		}
	}
	return r;
}

/* Reads exactly n bytes; fds arriving with them go to take_fds(). */
static int recv_exact(int sock, char *p, size_t n, bool first, uint64_t deadline_us, int *fd)
{
	size_t done = 0;

	while (done < n) {
		union {
			char buf[CMSG_SPACE(FRAME_MAX_FDS * sizeof(int))];
			struct cmsghdr align;
		} control;
		struct iovec iov = {.iov_base = p + done, .iov_len = n - done};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = control.buf,
				    .msg_controllen = sizeof(control.buf)};
		ssize_t k;
		int r;

		r = wait_readable(sock, deadline_us);
		if (r < 0)
			return r;
		k = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		r = take_fds(&mh, first && done == 0, fd);
		if (r < 0)
			return r;
		if (k == 0)
			return first && done == 0 ? -ECONNRESET : -EBADMSG;
		done += (size_t)k;
	}
	return 0;
}

int frame_recv(int sock, size_t max, uint64_t deadline_us, struct frame *ret)
{
	struct frame f = FRAME_INIT;
	char hdr[FRAME_HEADER_SIZE];
	int r;

	r = recv_exact(sock, hdr, sizeof(hdr), true, deadline_us, &f.fd);
	if (r >= 0)
		r = frame_parse_header(hdr, sizeof(hdr), max, &f.type, &f.len, &f.id);
	if (r >= 0)
		r = frame_alloc(&f, hdr, f.len);
	if (r >= 0)
		r = recv_exact(sock, f.buf.data + FRAME_HEADER_SIZE, f.len, false, deadline_us,
			       &f.fd);
	if (r < 0) {
		frame_done(&f);
		return r;
	}
	*ret = f;
	return 0;
}

static int frame_get(struct frame *f, void *p, size_t n)
{
	if (f->pos > f->buf.len || f->buf.len - f->pos < n)
		return -EBADMSG;
	memcpy(p, f->buf.data + f->pos, n);
	f->pos += n;
	return 0;
}

int frame_get_u32(struct frame *f, uint32_t *ret)
{
	return frame_get(f, ret, sizeof(*ret));
}

int frame_get_u64(struct frame *f, uint64_t *ret)
{
	return frame_get(f, ret, sizeof(*ret));
}

int frame_get_str(struct frame *f, const char **ret)
{
	const char *s = f->buf.data + f->pos;
	const char *nul;

	if (f->pos >= f->buf.len)
		return -EBADMSG;
	nul = memchr(s, '\0', f->buf.len - f->pos);
	if (!nul)
		return -EBADMSG;
	f->pos += (size_t)(nul - s) + 1;
	*ret = s;
	return 0;
}

int frame_get_bytes(struct frame *f, const void **ret, size_t *ret_len)
{
	size_t pos = f->pos;
	uint32_t n;
	int r;

	r = frame_get_u32(f, &n);
	if (r < 0)
		return r;
	if (f->buf.len - f->pos < n) {
		f->pos = pos;
		return -EBADMSG;
	}
	*ret = f->buf.data + f->pos;
	*ret_len = n;
	f->pos += n;
	return 0;
}

int frame_get_end(const struct frame *f)
{
	return f->pos == f->buf.len ? 0 : -EBADMSG;
}

int frame_take_fd(struct frame *f)
{
	int fd = f->fd;

	f->fd = -1;
	return fd >= 0 ? fd : -EBADMSG;
}

void frame_done(struct frame *f)
{
	buf_done(&f->buf);
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->pos = 0;
}

int frame_memfd_new(const char *name, const void *p, size_t n, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	size_t done = 0;

	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	while (done < n) {
		ssize_t k = write(fd, (const char *)p + done, n - done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		done += (size_t)k;
	}
	if (fcntl(fd, F_ADD_SEALS, FRAME_SEALS) < 0)
		return -errno;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int frame_memfd_map(int fd, size_t max, const void **ret_p, size_t *ret_n)
{
	struct stat st;
	void *p;
	int seals;

	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return errno == EINVAL ? -EBADMSG : -errno; /* not a memfd */
	if ((seals & FRAME_SEALS) != FRAME_SEALS)
		return -EBADMSG;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size < 0 || (uint64_t)st.st_size > max)
		return -ERANGE;
	if (st.st_size == 0) {
		*ret_p = NULL;
		*ret_n = 0;
		return 0;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	*ret_p = p;
	*ret_n = (size_t)st.st_size;
	return 0;
}
