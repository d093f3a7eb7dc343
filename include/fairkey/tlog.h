/*
 * fairkey/tlog.h - see <fairkey.h>.  Included by <fairkey.h>; do not include directly.
 */
#ifndef FAIRKEY_TLOG_H
#define FAIRKEY_TLOG_H

#include "common.h"

#endif
