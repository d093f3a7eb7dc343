/*
 * fairkey.h - the public API of libfairkey, the only header a program needs.
 *
 * libfairkey implements age v1 files (C2SP age), accountable key escrow
 * (escrow stanzas, threshold partial decryption with DLEQ proofs), and the
 * transparency log formats (RFC 9162 Merkle proofs, C2SP signed notes,
 * checkpoints and tiles).  The library never prints, never exits, and opens
 * no sockets.  Functions return fk_err (0 = FK_OK); outputs are untouched on
 * failure.  Passing NULL where a pointer is required aborts (misuse).
 *
 * The declarations are grouped by module under fairkey/; include this file.
 */
#ifndef FAIRKEY_H
#define FAIRKEY_H

#define FAIRKEY_VERSION "0.1.0"

#include "fairkey/common.h"
#include "fairkey/age.h"
#include "fairkey/escrow.h"
#include "fairkey/tlog.h"
#include "fairkey/request.h"
#include "fairkey/deposit.h"
#include "fairkey/dkg.h"

#endif
