#ifndef STEPWISE_CZLIB_SHIM_H
#define STEPWISE_CZLIB_SHIM_H
#include <zlib.h>
/* deflateInit2 / inflateInit2 are macros that pass ZLIB_VERSION and sizeof(z_stream). */
static inline int czlib_deflateInit2(z_streamp s, int level, int method, int windowBits, int memLevel, int strategy)
{ return deflateInit2(s, level, method, windowBits, memLevel, strategy); }
static inline int czlib_inflateInit2(z_streamp s, int windowBits) { return inflateInit2(s, windowBits); }
#endif
