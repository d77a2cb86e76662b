# src/: the program (everything but main() goes into libdivemap.a).
libdivemap_a_SOURCES += \
	src/buf.c src/buf.h \
	src/cleanup.h \
	src/log.c src/log.h \
	src/strutil.c src/strutil.h
