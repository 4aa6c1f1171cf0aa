/* privdrop - see privdrop.h */
#include "gateway/privdrop.h"
#include "common/log.h"

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static __thread char privdrop_err[600];

/* Looks up user: 1 found (uid, primary gid), 0 unknown, -1 lookup error. */
static int lookup_user(const char *user, uid_t *uid_r, gid_t *gid_r)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int rc = getpwnam_r(user, &pw, buf, sizeof buf, &res);

	if (rc != 0)
		return -1;
	if (res == NULL)
		return 0;
	*uid_r = pw.pw_uid;
	*gid_r = pw.pw_gid;
	return 1;
}

/* Looks up group: 1 found, 0 unknown, -1 lookup error. */
static int lookup_group(const char *group, gid_t *gid_r)
{
	struct group gr, *res = NULL;
	char buf[16384];
	int rc = getgrnam_r(group, &gr, buf, sizeof buf, &res);

	if (rc != 0)
		return -1;
	if (res == NULL)
		return 0;
	*gid_r = gr.gr_gid;
	return 1;
}

int privdrop_plan(const char *user, const char *group, int allow_root, uid_t euid,
		  struct privdrop *pd_r, const char **error_r)
{
	int found;

	memset(pd_r, 0, sizeof *pd_r);
	if (euid != 0)
		return 0;
	if (user[0] == '\0') {
		if (allow_root)
			return 0;
		*error_r = "running as root with an empty node.user; set node.user to an unprivileged "
			   "user (evmaild switches to it after binding its ports) or node.allow_root = true";
		return -1;
	}
	if (strlen(user) >= sizeof pd_r->user || strlen(group) >= sizeof pd_r->group) {
		*error_r = "node.user or node.group is too long";
		return -1;
	}
	found = lookup_user(user, &pd_r->uid, &pd_r->gid);
	if (found < 0) {
		snprintf(privdrop_err, sizeof privdrop_err, "cannot look up node.user %s: %s", user,
			 strerror(errno));
		*error_r = privdrop_err;
		return -1;
	}
	if (found == 0) {
		if (allow_root) {
			log_warn("node.user %s does not exist: running as root (node.allow_root)", user);
			return 0;
		}
		snprintf(privdrop_err, sizeof privdrop_err,
			 "node.user %s does not exist; create it (useradd --system %s) or set "
			 "node.allow_root = true", user, user);
		*error_r = privdrop_err;
		return -1;
	}
	if (pd_r->uid == 0) {
		if (allow_root)
			return 0;
		snprintf(privdrop_err, sizeof privdrop_err,
			 "node.user %s has uid 0; name an unprivileged user or set node.allow_root = true", user);
		*error_r = privdrop_err;
		return -1;
	}
	if (group[0] != '\0') {
		found = lookup_group(group, &pd_r->gid);
		if (found <= 0) {
			snprintf(privdrop_err, sizeof privdrop_err, "node.group %s %s", group,
				 found == 0 ? "does not exist" : "cannot be looked up");
			*error_r = privdrop_err;
			return -1;
		}
	}
	snprintf(pd_r->user, sizeof pd_r->user, "%s", user);
	snprintf(pd_r->group, sizeof pd_r->group, "%s", group);
	pd_r->active = 1;
	return 0;
}

/* nftw has no context argument: the walk's target and first error. */
static __thread uid_t chown_uid;
static __thread gid_t chown_gid;
static __thread int chown_errno;
static __thread char chown_path[512];

static int chown_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type == FTW_NS || type == FTW_DNR) {
		chown_errno = errno != 0 ? errno : EACCES;
		snprintf(chown_path, sizeof chown_path, "%s", path);
		return 1;
	}
	if (st->st_uid != 0)
		return 0;
	if (lchown(path, chown_uid, st->st_gid == 0 ? chown_gid : st->st_gid) != 0) {
		chown_errno = errno;
		snprintf(chown_path, sizeof chown_path, "%s", path);
		return 1;
	}
	return 0;
}

int privdrop_chown_tree(const char *dir, uid_t uid, gid_t gid, const char **error_r)
{
	chown_uid = uid;
	chown_gid = gid;
	chown_errno = 0;
	chown_path[0] = '\0';
	/* FTW_PHYS: a link is changed itself, never what it points to; FTW_MOUNT:
	 * stay on the data dir's file system. */
	if (nftw(dir, chown_entry, 32, FTW_PHYS | FTW_MOUNT) != 0) {
		snprintf(privdrop_err, sizeof privdrop_err, "cannot hand %s to uid %u: %s",
			 chown_path[0] ? chown_path : dir, (unsigned)uid,
			 strerror(chown_errno != 0 ? chown_errno : errno));
		*error_r = privdrop_err;
		return -1;
	}
	return 0;
}

/* The switch itself; the caller verifies. */
static int switch_ids(const struct privdrop *pd, const char **error_r)
{
	if (setgroups(1, &pd->gid) != 0) {
		snprintf(privdrop_err, sizeof privdrop_err, "setgroups(%u): %s", (unsigned)pd->gid,
			 strerror(errno));
		*error_r = privdrop_err;
		return -1;
	}
	/* The group first: once the uid is not 0 it can no longer change. */
	if (setresgid(pd->gid, pd->gid, pd->gid) != 0) {
		snprintf(privdrop_err, sizeof privdrop_err, "setresgid(%u): %s", (unsigned)pd->gid,
			 strerror(errno));
		*error_r = privdrop_err;
		return -1;
	}
	if (setresuid(pd->uid, pd->uid, pd->uid) != 0) {
		snprintf(privdrop_err, sizeof privdrop_err, "setresuid(%u): %s", (unsigned)pd->uid,
			 strerror(errno));
		*error_r = privdrop_err;
		return -1;
	}
	return 0;
}

int privdrop_apply(const struct privdrop *pd, const char **error_r)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg, groups[2];
	int n;

	if (!pd->active)
		return 0;
	if (switch_ids(pd, error_r) < 0)
		return -1;
	/* Trust nothing: read every id back, and make sure root cannot be
	 * regained (OpenSMTPD checks the same). */
	n = getgroups(2, groups);
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0 || ru != pd->uid ||
	    eu != pd->uid || su != pd->uid || rg != pd->gid || eg != pd->gid || sg != pd->gid ||
	    n != 1 || groups[0] != pd->gid) {
		*error_r = "privileges not dropped: the ids read back are not node.user/node.group";
		return -1;
	}
	if (setuid(0) != -1 || seteuid(0) != -1) {
		*error_r = "privileges not dropped: setuid(0) still succeeds";
		return -1;
	}
	log_info("running as %s (uid %u, gid %u)", pd->user, (unsigned)pd->uid, (unsigned)pd->gid);
	return 0;
}
