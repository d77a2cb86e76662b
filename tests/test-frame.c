/* Unit tests of the frames (src/frame.c): building, parsing, socket I/O and
 * sealed memfds. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "frame.h"

static void make_pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

/* The bytes of a frame: header {type, len, id} and payload. */
static size_t raw_frame(char *out, uint32_t type, uint32_t len, uint32_t id, const void *p,
			size_t n)
{
	uint32_t hdr[3] = {type, len, id};

	memcpy(out, hdr, sizeof(hdr));
	memcpy(out + sizeof(hdr), p, n);
	return sizeof(hdr) + n;
}

static void test_frame_round_trip_over_socket(void **state)
{
	struct frame out, in = FRAME_INIT;
	const char *s, *e;
	const void *b;
	uint32_t u;
	uint64_t v;
	size_t n;
	int sv[2];

	make_pair(sv);
	frame_begin(&out, 7, 42);
	assert_int_equal(frame_add_u32(&out, 0xdeadbeef), 0);
	assert_int_equal(frame_add_str(&out, "Ποθητός"), 0);
	assert_int_equal(frame_add_u64(&out, UINT64_MAX - 1), 0);
	assert_int_equal(frame_add_bytes(&out, "a\0b", 3), 0);
	assert_int_equal(frame_add_str(&out, NULL), 0);
	assert_int_equal(frame_send(sv[0], &out, -1), 0);
	frame_done(&out);

	assert_int_equal(frame_recv(sv[1], FRAME_MAX_CONTROL, 0, &in), 0);
	assert_int_equal(in.type, 7);
	assert_int_equal(in.id, 42);
	assert_int_equal(in.fd, -1);
	assert_int_equal(frame_get_u32(&in, &u), 0);
	assert_int_equal(u, 0xdeadbeef);
	assert_int_equal(frame_get_str(&in, &s), 0);
	assert_string_equal(s, "Ποθητός");
	assert_int_equal(frame_get_u64(&in, &v), 0);
	assert_true(v == UINT64_MAX - 1);
	assert_int_equal(frame_get_bytes(&in, &b, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(b, "a\0b", 3);
	assert_int_equal(frame_get_str(&in, &e), 0);
	assert_string_equal(e, "");
	assert_int_equal(frame_get_end(&in), 0);
	assert_int_equal(frame_get_u32(&in, &u), -EBADMSG);
	frame_done(&in);
	close(sv[0]);
	close(sv[1]);
}

static void test_frame_empty_payload_and_end_of_stream(void **state)
{
	struct frame out, in = FRAME_INIT;
	int sv[2];

	make_pair(sv);
	frame_begin(&out, 1, 2);
	assert_int_equal(frame_send(sv[0], &out, -1), 0);
	frame_done(&out);
	close(sv[0]);
	assert_int_equal(frame_recv(sv[1], FRAME_MAX_CONTROL, 0, &in), 0);
	assert_int_equal(in.len, 0);
	assert_int_equal(frame_get_end(&in), 0);
	frame_done(&in);
	/* end of stream at a frame boundary */
	assert_int_equal(frame_recv(sv[1], FRAME_MAX_CONTROL, 0, &in), -ECONNRESET);
	close(sv[1]);
}

static void test_frame_truncated_header(void **state)
{
	char raw[64];
	size_t n = raw_frame(raw, 1, 4, 9, "abcd", 4);
	uint32_t type, len, id;
	struct frame f;
	int sv[2];

	assert_int_equal(frame_parse_header(raw, FRAME_HEADER_SIZE - 1, 100, &type, &len, &id),
			 -EAGAIN);
	assert_int_equal(frame_parse(raw, FRAME_HEADER_SIZE - 1, 100, &f), -EBADMSG);
	/* and a frame cut in its payload */
	assert_int_equal(frame_parse(raw, n - 1, 100, &f), -EBADMSG);

	make_pair(sv);
	assert_int_equal(write(sv[0], raw, 5), 5);
	close(sv[0]);
	assert_int_equal(frame_recv(sv[1], 100, 0, &f), -EBADMSG);
	close(sv[1]);
}

static void test_frame_truncated_payload_on_socket(void **state)
{
	char raw[64];
	size_t n = raw_frame(raw, 1, 40, 9, "abcd", 4); /* claims 40, has 4 */
	struct frame f;
	int sv[2];

	make_pair(sv);
	assert_int_equal(write(sv[0], raw, n), (ssize_t)n);
	close(sv[0]);
	assert_int_equal(frame_recv(sv[1], 100, 0, &f), -EBADMSG);
	close(sv[1]);
}

static void test_frame_oversized_len_rejected_before_allocating(void **state)
{
	char raw[64];
	uint32_t type, len, id;
	struct frame f;
	int sv[2];

	raw_frame(raw, 1, UINT32_MAX, 9, "", 0);
	assert_int_equal(
	    frame_parse_header(raw, FRAME_HEADER_SIZE, FRAME_MAX_CONTROL, &type, &len, &id),
	    -ERANGE);
	assert_int_equal(frame_parse(raw, FRAME_HEADER_SIZE, FRAME_MAX_CONTROL, &f), -ERANGE);
	raw_frame(raw, 1, FRAME_MAX_CONTROL + 1, 9, "", 0);
	make_pair(sv);
	assert_int_equal(write(sv[0], raw, FRAME_HEADER_SIZE), FRAME_HEADER_SIZE);
	assert_int_equal(frame_recv(sv[1], FRAME_MAX_CONTROL, 0, &f), -ERANGE);
	close(sv[0]);
	close(sv[1]);
	/* exactly the maximum is fine */
	raw_frame(raw, 1, 3, 9, "ab", 3);
	assert_int_equal(frame_parse(raw, FRAME_HEADER_SIZE + 3, 3, &f), 0);
	frame_done(&f);
}

static void test_frame_leftover_bytes_fail_end(void **state)
{
	char raw[64];
	uint32_t a = 1, u;
	struct frame f;
	uint32_t two[2] = {a, a};
	size_t n = raw_frame(raw, 3, 8, 1, two, sizeof(two));

	assert_int_equal(frame_parse(raw, n, 100, &f), 0);
	assert_int_equal(frame_get_u32(&f, &u), 0);
	assert_int_equal(frame_get_end(&f), -EBADMSG);
	assert_int_equal(frame_get_u32(&f, &u), 0);
	assert_int_equal(frame_get_end(&f), 0);
	frame_done(&f);
	/* extra bytes after the frame given to frame_parse */
	assert_int_equal(frame_parse(raw, n + 1, 100, &f), -EBADMSG);
}

static void test_frame_string_without_nul(void **state)
{
	char raw[64];
	const char *s;
	struct frame f;
	size_t n = raw_frame(raw, 3, 3, 1, "abc", 3);

	assert_int_equal(frame_parse(raw, n, 100, &f), 0);
	assert_int_equal(frame_get_str(&f, &s), -EBADMSG);
	frame_done(&f);
	n = raw_frame(raw, 3, 0, 1, "", 0);
	assert_int_equal(frame_parse(raw, n, 100, &f), 0);
	assert_int_equal(frame_get_str(&f, &s), -EBADMSG);
	frame_done(&f);
}

static void test_frame_bytes_longer_than_frame(void **state)
{
	char raw[64], payload[8];
	uint32_t claim = 100;
	const void *p;
	size_t len, n;
	struct frame f;

	memcpy(payload, &claim, 4);
	memcpy(payload + 4, "abcd", 4);
	n = raw_frame(raw, 3, 8, 1, payload, 8);
	assert_int_equal(frame_parse(raw, n, 100, &f), 0);
	assert_int_equal(frame_get_bytes(&f, &p, &len), -EBADMSG);
	frame_done(&f);
}

static void test_frame_recv_times_out(void **state)
{
	struct frame f;
	uint64_t start = frame_now_us();
	int sv[2];

	make_pair(sv);
	assert_int_equal(frame_recv(sv[1], 100, frame_now_us() + 50000, &f), -ETIMEDOUT);
	assert_true(frame_now_us() - start >= 50000);
	assert_true(frame_now_us() - start < 1000000);
	close(sv[0]);
	close(sv[1]);
}

static void test_frame_passes_sealed_memfd(void **state)
{
	static const char msg[] = "Subject: hello\r\n\r\nbody\r\n";
	struct frame out, in = FRAME_INIT;
	const void *p;
	size_t n;
	int sv[2], fd, got;

	make_pair(sv);
	assert_int_equal(frame_memfd_new("test", msg, sizeof(msg) - 1, &fd), 0);
	/* sealed: no more writing */
	assert_int_equal(write(fd, "x", 1), -1);
	frame_begin(&out, 5, 3);
	assert_int_equal(frame_send(sv[0], &out, fd), 0);
	frame_done(&out);
	close(fd);

	assert_int_equal(frame_recv(sv[1], 100, 0, &in), 0);
	got = frame_take_fd(&in);
	assert_true(got >= 0);
	assert_int_equal(frame_take_fd(&in), -EBADMSG);
	assert_int_equal(fcntl(got, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(frame_memfd_map(got, sizeof(msg) - 2, &p, &n), -ERANGE);
	assert_int_equal(frame_memfd_map(got, 1000, &p, &n), 0);
	assert_int_equal(n, sizeof(msg) - 1);
	assert_memory_equal(p, msg, n);
	munmap((void *)p, n);
	close(got);
	frame_done(&in);
	close(sv[0]);
	close(sv[1]);
}

static void test_frame_unsealed_fd_refused(void **state)
{
	const void *p;
	size_t n;
	int fd = memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "abc", 3), 3);
	assert_int_equal(frame_memfd_map(fd, 100, &p, &n), -EBADMSG);
	close(fd);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_int_equal(frame_memfd_map(fd, 100, &p, &n), -EBADMSG);
	close(fd);
}

static void test_frame_empty_memfd(void **state)
{
	const void *p = "x";
	size_t n = 1;
	int fd;

	assert_int_equal(frame_memfd_new("empty", "", 0, &fd), 0);
	assert_int_equal(frame_memfd_map(fd, 100, &p, &n), 0);
	assert_null(p);
	assert_int_equal(n, 0);
	close(fd);
}

static void test_frame_fd_on_payload_is_bad(void **state)
{
	/* A frame whose fd arrives after its first byte: the peer is broken. */
	char raw[64];
	size_t n = raw_frame(raw, 1, 4, 9, "abcd", 4);
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control = {0};
	struct iovec iov = {.iov_base = raw + FRAME_HEADER_SIZE, .iov_len = 4};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = control.buf,
			    .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC), sv[2];
	struct frame f;

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	make_pair(sv);
	assert_int_equal(write(sv[0], raw, FRAME_HEADER_SIZE), FRAME_HEADER_SIZE);
	assert_int_equal(sendmsg(sv[0], &mh, 0), 4);
	assert_int_equal(frame_recv(sv[1], 100, 0, &f), -EBADMSG);
	assert_int_equal(n, FRAME_HEADER_SIZE + 4);
	close(fd);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frame_round_trip_over_socket),
	    cmocka_unit_test(test_frame_empty_payload_and_end_of_stream),
	    cmocka_unit_test(test_frame_truncated_header),
	    cmocka_unit_test(test_frame_truncated_payload_on_socket),
	    cmocka_unit_test(test_frame_oversized_len_rejected_before_allocating),
	    cmocka_unit_test(test_frame_leftover_bytes_fail_end),
	    cmocka_unit_test(test_frame_string_without_nul),
	    cmocka_unit_test(test_frame_bytes_longer_than_frame),
	    cmocka_unit_test(test_frame_recv_times_out),
	    cmocka_unit_test(test_frame_passes_sealed_memfd),
	    cmocka_unit_test(test_frame_unsealed_fd_refused),
	    cmocka_unit_test(test_frame_empty_memfd),
	    cmocka_unit_test(test_frame_fd_on_payload_is_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
