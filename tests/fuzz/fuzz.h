/* fuzz.h: what the fuzz harnesses share.
 *
 * Each fuzz-NAME.c defines LLVMFuzzerTestOneInput() (and may define
 * fuzz_init(), called once before the first input). Built with
 * `configure --enable-fuzzing` (clang) they link against libFuzzer; built
 * plainly they link with replay.c, whose main() runs the entry point over
 * files: the regression inputs in tests/fuzz/regress/NAME/ under make check. */
#ifndef DIVEMAP_FUZZ_H
#define DIVEMAP_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The source tree: $top_srcdir, else ".". */
const char *fuzz_top_srcdir(void);
/* A memfd holding data[0..size), its path in /proc/self/fd
 * written to path (at least 32 bytes); returns the fd or -errno. */
int fuzz_memfd(const uint8_t *data, size_t size, char *path, size_t path_size);

#endif
