/* privdrop - giving up root after binding, as OpenSMTPD and Postfix do.
 *
 * Started as root, evmaild binds every listener (ports below 1024 need
 * root or CAP_NET_BIND_SERVICE) and reads its TLS keys, then switches to
 * node.user / node.group for good, before it reads any client input and
 * before any thread exists (node.c says where and why). Started as any
 * other user, nothing changes.
 *
 * Decisions (privdrop_plan):
 *   not root                           -> nothing to do
 *   root, node.user exists             -> switch to it (node.allow_root
 *                                         does not keep root then)
 *   root, node.user empty or unknown   -> refuse, unless node.allow_root
 * The group is node.group, else node.user's primary group; the supplementary
 * group list becomes that one group (no initgroups: least privilege).
 *
 * The data dir: every root-owned entry in it (the dir included, symbolic
 * links not followed) is handed to the user first (privdrop_chown_tree),
 * so a data dir made by an earlier root run, an installer or `mkdir` as
 * root just works. Entries owned by anyone else are left alone; if the user
 * then cannot write the dir, node_start says so. */
#ifndef EVM_PRIVDROP_H
#define EVM_PRIVDROP_H

#include <sys/types.h>

struct privdrop {
	int active;          /* 1: privdrop_apply switches to uid/gid */
	uid_t uid;
	gid_t gid;
	char user[64];
	char group[64];
};

/* Decides for a process whose effective uid is euid (see above). Returns 0
 * with *pd_r (active 0 when nothing is to be done) or -1 with *error_r
 * naming the key to set. Looks up the user and group databases (NSS):
 * call before anything is dropped or chrooted. */
int privdrop_plan(const char *user, const char *group, int allow_root, uid_t euid,
		  struct privdrop *pd_r, const char **error_r);
/* Gives every root-owned entry under dir (dir included) to uid:gid with
 * lchown; never follows symbolic links. Returns 0 or -1 with *error_r. */
int privdrop_chown_tree(const char *dir, uid_t uid, gid_t gid, const char **error_r);
/* setgroups to the one group, setresgid, setresuid; then checks that the
 * real, effective and saved ids are the target, the group list is that
 * group, and setuid(0) fails. Returns 0, or -1 with *error_r (the process
 * must exit: its credentials are unknown). Call while single-threaded. */
int privdrop_apply(const struct privdrop *pd, const char **error_r);

#endif
