#ifndef STEPWISE_CGLIB_SHIM_H
#define STEPWISE_CGLIB_SHIM_H
#include <glib.h>
#include <glib-unix.h>
#endif
