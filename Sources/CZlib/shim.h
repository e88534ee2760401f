#ifndef CZLIB_SHIM_H
#define CZLIB_SHIM_H

#include <zlib.h>

/* inflateInit/deflateInit are macros that Swift cannot call; these wrap them. */
static inline int czlib_inflate_init(z_stream *stream) {
    return inflateInit(stream);
}

/* windowBits -15: raw deflate (no zlib header or checksum), as in ZIP entries. */
static inline int czlib_inflate_init2(z_stream *stream, int window_bits) {
    return inflateInit2(stream, window_bits);
}

static inline int czlib_deflate_init2(z_stream *stream, int level, int window_bits) {
    return deflateInit2(stream, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
}

static inline int czlib_deflate_init(z_stream *stream, int level) {
    return deflateInit(stream, level);
}

#endif
