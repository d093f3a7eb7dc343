/*
 * fairkey/request.h - see <fairkey.h>.  Included by <fairkey.h>; do not include directly.
 */
#ifndef FAIRKEY_REQUEST_H
#define FAIRKEY_REQUEST_H

#include "common.h"

#endif
