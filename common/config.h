/* config - the one configuration file, with environment overrides.
 *
 * Format: INI sections ("[node]" then "id = a1") or dotted keys at top level
 * ("node.id = a1"); '#' and ';' start comments. Every key can be overridden
 * by EVMAIL_<SECTION>_<KEY> in upper case (log.backend -> EVMAIL_LOG_BACKEND).
 * Precedence: built-in default < file < environment. Unknown keys and values
 * that do not parse are errors, so a typo never silently falls back to a
 * default. config_keys[] documents every key; `evmaild --check-config`
 * prints it with the effective values. */
#ifndef EVM_CONFIG_H
#define EVM_CONFIG_H

#include <stdint.h>
#include <stdio.h>

enum evm_log_backend { EVM_LOG_EMBEDDED, EVM_LOG_KAFKA };

struct evm_config {
	char *node_id;
	char *node_data_dir;
	char *node_bootstrap_from;  /* "" = none: a peer's mgmt host:port to copy an empty view from */
	char *node_roles;          /* comma list: projector,gateway */
	char *node_user;           /* "" = no switch (needs node.allow_root as root) */
	char *node_group;          /* "" = node.user's primary group */
	int64_t node_allow_root;
	enum evm_log_backend log_backend;
	char *log_brokers;         /* "" when none */
	char *log_topic_prefix;
	int64_t log_partitions;
	int64_t log_replication_factor;
	int64_t log_min_insync_replicas;
	int64_t log_segment_bytes;
	int64_t log_segment_ms;
	int64_t log_linger_ms;
	int64_t log_embedded_linger_ms;
	int64_t log_embedded_compact_interval_s;       /* 0 = no compaction thread */
	int64_t log_embedded_tombstone_retention_ms;
	int64_t log_write_timeout_ms;   /* an append not acknowledged by then fails */
	char *log_level;
	char *mgmt_listen;
	char *mgmt_admin_token;    /* "" when none */
	int64_t projector_batch_max;
	int64_t projector_bulk_min;
	int64_t projector_ready_lag;
	int64_t view_write_buffer_mb;
	int64_t projector_heartbeat_ms;
	int64_t mail_tombstone_ms; /* mail.tombstone_days in ms: the pruning horizon (an applier input) */
	char *smtp_listen;         /* "" = off */
	char *smtp_hostname;       /* "" = node.id */
	char *lmtp_listen;         /* "" = off */
	char *imap_listen;         /* "" = off */
	char *imaps_listen;        /* "" = off; needs tls.cert */
	int64_t imap_allow_plaintext_auth;
	int64_t limits_imap_idle_timeout_s;
	int64_t limits_imap_preauth_timeout_s;
	int64_t limits_imap_literal;
	char *pop3_listen;         /* "" = off */
	char *pop3s_listen;        /* "" = off; needs tls.cert */
	int64_t pop3_allow_plaintext_auth;
	char *http_listen;         /* "" = off: the HTTP server (gateway/http) */
	char *https_listen;        /* "" = off; needs tls.cert */
	int64_t limits_http_header_bytes;
	int64_t limits_http_body;
	int64_t limits_http_idle_timeout_s;
	int64_t jmap_push_allow_http;      /* PushSubscription urls may be http:// (tests) */
	int64_t jmap_push_allow_private;   /* ... and reach loopback/private addresses (tests) */
	int64_t jmap_push_timeout_s;       /* one push POST, at most */
	int64_t blob_gc_interval_s;        /* body GC scans (gateway/blobgc); 0 = off */
	int64_t blob_gc_grace_s;
	int64_t retention_interval_s;      /* retention rounds (gateway/retention); 0 = off */
	int64_t blob_upload_ttl_s;         /* a JMAP upload references its blob this long */
	char *blob_store;                  /* "view" or "log" (projector/blob_store.h) */
	int64_t blob_cache_size;           /* blob.store = log: the cache's bound, octets; 0 = none */
	char *submission_listen;   /* "" = off */
	char *submissions_listen;  /* "" = off; needs tls.cert */
	int64_t submission_allow_plaintext_auth;
	int64_t limits_submission_per_hour;   /* 0 = unlimited */
	int64_t auth_cache_ttl_s;  /* 0 = no password cache */
	int64_t auth_cache_size;
	int64_t auth_failure_delay_ms;     /* each failed login answered this late */
	int64_t auth_max_failures_ip;      /* 0 = no per-client lockout */
	int64_t auth_max_failures_account; /* 0 = no per-account lockout */
	int64_t auth_window_s;
	int64_t auth_lockout_s;
	int64_t auth_throttle_size;        /* clients and accounts remembered, each */
	char *auth_throttle_exempt;        /* CIDR list, "" = none */
	int64_t limits_smtp_conn_per_ip;       /* 0 = limits.connections_per_ip */
	int64_t limits_smtp_msgs_per_min_ip;   /* 0 = unlimited */
	int64_t limits_smtp_rcpts_per_min_ip;  /* 0 = unlimited */
	int64_t dkim_sign;
	char *forward_srs_secret_file;  /* "" = no forwarding to remote alias targets */
	char *crypto_master_key_file;   /* "" = no sealing (common/seal.h, projector/keyring.h) */
	char *crypto_old_master_key_files;  /* comma list of earlier KEK files, "" = none */
	char *delivery_relay;      /* "" = by MX */
	char *delivery_relay_user;
	char *delivery_relay_password_file;
	char *delivery_relay_tls;  /* none, may, encrypt, verify */
	char *delivery_routes;     /* "domain=host:port,..." */
	int64_t delivery_smtp_port;
	char *delivery_helo_name;
	int64_t delivery_retry_min_s;
	int64_t delivery_retry_max_s;
	int64_t delivery_max_lifetime_s;
	int64_t delivery_delay_warning_s;
	int64_t delivery_concurrency;
	int64_t delivery_concurrency_per_domain;
	int64_t delivery_messages_per_connection;
	int64_t delivery_connect_timeout_s;
	int64_t delivery_command_timeout_s;
	char *delivery_tls_ca_file;
	int64_t delivery_mta_sts;
	int64_t delivery_mta_sts_port;
	int64_t delivery_dane;
	char *dns_resolvers;       /* "" = /etc/resolv.conf */
	int64_t inbound_auth;      /* SPF/DKIM/DMARC/ARC on smtp.listen (gateway/msgauth) */
	char *inbound_dmarc_reject;  /* reject | quarantine | none */
	char *inbound_arc_trusted_sealers;  /* "a.example,b.example": DMARC failures these ARC sealers vouch for are accepted */
	char *dns_trust_anchor_file;
	char *tls_cert;            /* "" = no TLS */
	char *tls_key;
	char *tls_min_version;     /* "1.2" or "1.3" */
	char *tls_ciphers;         /* TLS 1.2 list; "" = Mozilla intermediate */
	char *tls_ciphersuites;    /* TLS 1.3 suites; "" = OpenSSL's three AEAD suites */
	int64_t limits_smtp_line_length;
	int64_t limits_message_size;
	int64_t limits_recipients;
	int64_t limits_smtp_errors;
	int64_t limits_smtp_command_timeout_s;
	int64_t limits_smtp_data_timeout_s;
	int64_t limits_connections;
	int64_t limits_connections_per_ip;
	char *source;              /* file the config came from, or "" */
};

/* CONFIG_DAYS: a decimal number of days ("30", "0.00003"), stored as an
 * int64_t of milliseconds (at least 1), parsed without floating point so
 * every node derives the same value from the same text. */
enum config_type { CONFIG_STRING, CONFIG_INT, CONFIG_BOOL, CONFIG_BACKEND, CONFIG_DAYS };

struct config_key {
	const char *name;          /* "section.key" */
	enum config_type type;
	const char *def;           /* NULL: computed (see doc) */
	const char *doc;
	size_t offset;             /* into struct evm_config */
	int64_t min, max;          /* for CONFIG_INT; CONFIG_DAYS: ms */
};

extern const struct config_key config_keys[];
extern const size_t config_keys_count;

/* Loads defaults, then path (NULL: $EVMAIL_CONFIG if set, else no file),
 * then the environment. Returns 0, or -1 with *error_r set to a static or
 * thread-local message. */
int config_load(const char *path, struct evm_config *cfg_r, const char **error_r);
/* Applies one "section.key" = value; used by the file reader and tests. */
int config_set(struct evm_config *cfg, const char *key, const char *value, const char **error_r);
void config_free(struct evm_config *cfg);
/* Prints every key with its effective value and documentation. */
void config_print(const struct evm_config *cfg, FILE *out);
/* Topic name for a suffix: prefix + suffix ("evmail." + "mail"). Static
 * buffer per thread; valid until the next call on the same thread. */
const char *config_topic(const struct evm_config *cfg, const char *suffix);
/* "d[.ddd]" days (at most 9 decimals) -> milliseconds, rounded down:
 * 0, or -1 when it is not such a number or exceeds max_ms. */
int config_parse_days(const char *v, int64_t max_ms, int64_t *ms_r);
/* 1 for 1/true/yes/on, 0 for 0/false/no/off (any case), -1 otherwise. */
int config_parse_bool(const char *v);
/* True if roles contains role. */
int config_has_role(const struct evm_config *cfg, const char *role);
/* 1 when blob.store is "log" (a config without the key: view). */
int config_blob_store_log(const struct evm_config *cfg);

#endif
