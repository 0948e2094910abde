#ifndef STEPWISE_CLIBUV_SHIM_H
#define STEPWISE_CLIBUV_SHIM_H
/* libuv for example-libuv-host (Debian: libuv1-dev, which ships libuv.pc). uv.h imports
 * whole: no macros to wrap. */
#include <uv.h>
#endif
