/*
 * The fairkey subcommand table.  Each subcommand lives in its own file in
 * src/cli/ (or src/log/, src/agent/) as `int cmd_<name>_main(int argc, char **argv)`,
 * where argv[0] is the subcommand name.  Add one line per command:
 * FK_COMMAND(name, function, one-line synopsis) for a command that needs no
 * network or database library, FK_NET_COMMAND(...) for one that does.  The
 * `fairkey` executable carries only the FK_COMMAND ones and hands the others
 * to `fairkey-net` beside it, so encrypting and decrypting never load
 * libcurl, SQLite or jansson (about 15 ms per process, measured).
 */
FK_COMMAND("keygen", cmd_keygen_main, "generate an X25519 identity (age-keygen format)")
FK_COMMAND("encrypt", cmd_encrypt_main, "encrypt a file to recipients or a passphrase")
FK_COMMAND("decrypt", cmd_decrypt_main, "decrypt a file with identities or a passphrase")
FK_COMMAND("inspect", cmd_inspect_main, "show a file's header: stanzas, escrow authorities, sizes")
FK_COMMAND("authority", cmd_authority_main, "create, show and check escrow authorities and shares; local recovery")
FK_NET_COMMAND("request", cmd_request_main, "file a recovery request in the transparency log; request keygen")
FK_NET_COMMAND("recover", cmd_recover_main, "recover a file from t escrow agents' answers to a logged request")
FK_NET_COMMAND("agent", cmd_agent_main, "run an escrow agent (agent serve), list, approve or deny pending requests")
FK_NET_COMMAND("deposit", cmd_deposit_main, "seal a source archive in escrow and log its deposit record; deposit verify")
FK_NET_COMMAND("audit", cmd_audit_main, "report logged recovery requests for your files; verify the log")
FK_NET_COMMAND("witness", cmd_witness_main, "run a transparency log witness (witness serve): cosigns consistent checkpoints")
FK_NET_COMMAND("log", cmd_log_main, "run a transparency log (serve) or check one (verify)")
FK_NET_COMMAND("demo", cmd_demo_main, "run the whole system on loopback: log, dealerless 3-of-5 authority, agents, request, recovery, audit")
