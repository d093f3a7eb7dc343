#!/bin/bash
# An agent's state folder backed up while the agent runs, wiped, restored,
# and served again (docs/operations.md section 7): 'fairkey agent backup'
# (SQLite's online backup, one 0600 file, never replacing one) and 'agent
# restore' (only into a folder no agent serves and without a database); the
# restored agent keeps its audit table -- what it answered, what its
# operator denied (still refused), its newest checkpoint -- and answers new
# requests.
. "$(dirname "$0")/lib.sh"

# one_line FILE PATTERN: FILE holds exactly one line, and it matches.
one_line() {
    [ "$(grep -c '' "$1")" = 1 ] && grep -q "$2" "$1"
}
# recover_rc RECEIPT OUT.err: recover from agent 1 alone (1-of-1); exit status.
recover_rc() {
    "$FAIRKEY" recover --authority "$AUTH" --request "$1" --key "$T/req.key" \
        --agents "$AGENT_URL_1" -o "$T/out" "$T/file.age" 2>"$2"
}
mode() { stat -c %a "$1"; }
# queued_id FILE: the id recover's stderr says the request was queued under
# (ids are not dense: the upsert of an answer takes one too).
queued_id() {
    sed -n 's/.*queued the request for manual approval (id \([0-9]*\)).*/\1/p' "$1" | head -1
}

start_log logA
setup_authority 1 1
bind_log logA
setup_file

# ---- an agent with manual approval answers one request and denies another ----------
start_agent 1 --manual
file_request --reason "answered before the backup"; cp "$RECEIPT" "$T/rA"
recover_rc "$T/rA" "$T/a0.err" && fail "manual agent answered unapproved"
A=$(queued_id "$T/a0.err"); [ -n "$A" ] || fail "A not queued: $(cat "$T/a0.err")"
"$FAIRKEY" agent approve --state "$T/agent1" "$A" >/dev/null || fail "approve $A"
recover_rc "$T/rA" "$T/a1.err" || fail "recover A: $(cat "$T/a1.err")"
cmp -s "$T/out" "$T/plain" || fail "recovered file differs"
file_request --reason "denied before the backup"; cp "$RECEIPT" "$T/rB"
recover_rc "$T/rB" "$T/b0.err" && fail "manual agent answered B"
B=$(queued_id "$T/b0.err"); [ -n "$B" ] || fail "B not queued: $(cat "$T/b0.err")"
"$FAIRKEY" agent deny --state "$T/agent1" --reason "no judge signed it" "$B" >/dev/null || fail "deny $B"
ok "the agent answered one request and its operator denied another"

# ---- backup while it runs ------------------------------------------------------------
"$FAIRKEY" agent backup --state "$T/agent1" -o "$T/agent1.bak" >"$T/bk.out" 2>"$T/bk.err" \
    || fail "backup: $(cat "$T/bk.err")"
one_line "$T/bk.out" "^backed up $T/agent1/agent.db to $T/agent1.bak: 2 requests (1 answered, 1 denied), checkpoint at tree size [1-9][0-9]*$" \
    || fail "backup line: $(cat "$T/bk.out")"
CP=$(sed 's/.*checkpoint at tree size //' "$T/bk.out")
[ "$(mode "$T/agent1.bak")" = 600 ] || fail "backup mode $(mode "$T/agent1.bak")"
[ "$(sqlite3 "$T/agent1.bak" 'PRAGMA journal_mode')" = delete ] || fail "backup is not one file"
ls "$T" | grep -q '^\.agent1\.bak\.' && fail "a temporary file left beside the backup"
# The agent kept serving: a fresh request is queued.
file_request --reason "after the backup"; cp "$RECEIPT" "$T/rX"
recover_rc "$T/rX" "$T/x.err"
[ -n "$(queued_id "$T/x.err")" ] || fail "after backup: $(cat "$T/x.err")"
ok "agent backup while the agent runs: one file, mode 0600, with what the agent had recorded"

"$FAIRKEY" agent backup --state "$T/agent1" -o "$T/agent1.bak" >/dev/null 2>"$T/bk2.err" \
    && fail "backup replaced a file"
one_line "$T/bk2.err" "^fairkey: $T/agent1.bak already exists; pick a new name (nothing is replaced)$" \
    || fail "second backup: $(cat "$T/bk2.err")"
"$FAIRKEY" agent backup --state "$T/agnet1" -o "$T/typo.bak" >/dev/null 2>"$T/bk3.err" && fail "backup of a typo"
one_line "$T/bk3.err" "$T/agnet1 holds no agent database" || fail "typo: $(cat "$T/bk3.err")"
[ -e "$T/typo.bak" ] && fail "a failed backup left its file"
"$FAIRKEY" agent backup --state "$T/agent1" -o - >/dev/null 2>"$T/bk4.err"
[ $? = 2 ] && one_line "$T/bk4.err" "not standard output; give -o FILE" || fail "-o -: $(cat "$T/bk4.err")"
"$FAIRKEY" agent restore --state "$T/agent1" "$T/agent1.bak" >/dev/null 2>"$T/rs0.err" \
    && fail "restore into the folder of a running agent"
one_line "$T/rs0.err" "^fairkey: an agent serves state folder $T/agent1; stop it first$" \
    || fail "restore while running: $(cat "$T/rs0.err")"
ok "backup never replaces a file and refuses a folder without agent.db; restore refuses a running agent's folder"

# ---- stop, wipe, restore -----------------------------------------------------------------
stop_agent 1
rm -rf "$T/agent1"
echo "not a database" >"$T/bad.bak"
"$FAIRKEY" agent restore --state "$T/agent1" "$T/bad.bak" >/dev/null 2>"$T/rs1.err" && fail "restored garbage"
one_line "$T/rs1.err" "^fairkey: $T/bad.bak is not an agent database backup (.*); give a file that 'fairkey agent backup' wrote$" \
    || fail "garbage: $(cat "$T/rs1.err")"
[ -e "$T/agent1/agent.db" ] && fail "a failed restore left agent.db"
"$FAIRKEY" agent restore --state "$T/agent1" "$T/agent1.bak" >"$T/rs.out" 2>"$T/rs.err" \
    || fail "restore: $(cat "$T/rs.err")"
one_line "$T/rs.out" "^restored $T/agent1/agent.db from $T/agent1.bak: 2 requests (1 answered, 1 denied), checkpoint at tree size $CP; start the agent$" \
    || fail "restore line: $(cat "$T/rs.out")"
[ "$(mode "$T/agent1/agent.db")" = 600 ] || fail "agent.db mode $(mode "$T/agent1/agent.db")"
[ "$(sqlite3 "$T/agent1/agent.db" 'PRAGMA journal_mode')" = wal ] || fail "restored agent.db not in WAL mode"
ls -a "$T/agent1" | grep -q '^\.agent\.db\.' && fail "a temporary file left in the state folder"
"$FAIRKEY" agent restore --state "$T/agent1" "$T/agent1.bak" >/dev/null 2>"$T/rs2.err" && fail "restored twice"
one_line "$T/rs2.err" "^fairkey: $T/agent1/agent.db already exists; restore only into a state folder without" \
    || fail "restore over a database: $(cat "$T/rs2.err")"
ok "agent restore: a wiped folder gets agent.db back (0600, WAL); garbage or an existing database is refused in one line"

# ---- the restored agent: its records hold, and it answers new requests ----------------
start_agent 1 --manual
"$FAIRKEY" agent pending --all --state "$T/agent1" >"$T/all.out" || fail "pending --all"
grep -q "^$A	answered	" "$T/all.out" && grep -q "^$B	denied	.*	denied: no judge signed it$" "$T/all.out" \
    && [ "$(grep -c '' "$T/all.out")" = 2 ] || fail "restored table: $(cat "$T/all.out")"
recover_rc "$T/rB" "$T/b1.err" && fail "the restored agent answered a denied request"
grep -q "denied by this agent's operator: no judge signed it" "$T/b1.err" || fail "B: $(cat "$T/b1.err")"
curl -s -o /dev/null -w '%{http_code}' --data-binary @"$T/rB" "$AGENT_URL_1/recover" | grep -qx 403 \
    || fail "the denied request is not answered 403 after restore"
ok "the restored agent still refuses the request its operator denied before the backup (403, the reason)"

# A new request after the restore.
file_request --reason "after the restore"; cp "$RECEIPT" "$T/rC"
recover_rc "$T/rC" "$T/c0.err"
id=$(queued_id "$T/c0.err"); [ -n "$id" ] || fail "C not queued: $(cat "$T/c0.err")"
"$FAIRKEY" agent approve --state "$T/agent1" "$id" >/dev/null || fail "approve $id"
rm -f "$T/out"
recover_rc "$T/rC" "$T/c1.err" || fail "recover C: $(cat "$T/c1.err")"
cmp -s "$T/out" "$T/plain" || fail "recovered file differs after restore"
[ "$(sqlite3 "$T/agent1/agent.db" 'SELECT size FROM checkpoint')" -ge "$CP" ] || fail "checkpoint went back"
ok "the restored agent answers a new request; its checkpoint did not go back"
echo "e2e_agent_backup: ok"
