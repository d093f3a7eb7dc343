/*
 * fairkey/escrow.h - see <fairkey.h>.  Included by <fairkey.h>; do not include directly.
 */
#ifndef FAIRKEY_ESCROW_H
#define FAIRKEY_ESCROW_H

#include "common.h"

#endif
