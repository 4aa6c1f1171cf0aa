/* config - see config.h */
#include "common/config.h"
#include "common/buf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <strings.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OFF(f) offsetof(struct evm_config, f)

const struct config_key config_keys[] = {
	{ "node.id", CONFIG_STRING, NULL,
	  "Node identifier, unique in the cluster (default: the host name).", OFF(node_id), 0, 0 },
	{ "node.data_dir", CONFIG_STRING, "./data",
	  "Directory for the view (RocksDB) and, with the embedded log, the log segments.", OFF(node_data_dir), 0, 0 },
	{ "node.bootstrap_from", CONFIG_STRING, "",
	  "A peer's management host:port: a node whose view is empty copies the peer's checkpoint (GET /admin/checkpoint, with mgmt.admin_token) before it starts, then tails the log from its offsets. Empty: replay the log from the start.", OFF(node_bootstrap_from), 0, 0 },
	{ "node.roles", CONFIG_STRING, "projector,gateway",
	  "Roles this node runs: projector, gateway (needs projector), delivery.", OFF(node_roles), 0, 0 },
	{ "node.user", CONFIG_STRING, "evmail",
	  "Started as root, evmaild binds its listeners, then runs as this user (empty: stays root, only with node.allow_root).", OFF(node_user), 0, 0 },
	{ "node.group", CONFIG_STRING, "",
	  "Group evmaild runs as after the switch (default: node.user's primary group).", OFF(node_group), 0, 0 },
	{ "node.allow_root", CONFIG_BOOL, "0",
	  "Allow running as root when node.user is empty or does not exist (containers that map root, tests); otherwise evmaild refuses.", OFF(node_allow_root), 0, 1 },
	{ "log.backend", CONFIG_BACKEND, NULL,
	  "embedded or kafka (default: kafka when log.brokers is set, else embedded).", OFF(log_backend), 0, 0 },
	{ "log.brokers", CONFIG_STRING, "",
	  "Kafka bootstrap servers, host:port[,host:port...].", OFF(log_brokers), 0, 0 },
	{ "log.topic_prefix", CONFIG_STRING, "evmail.",
	  "Prefix of every topic name (mail, blob, directory, queue, cluster).", OFF(log_topic_prefix), 0, 0 },
	{ "log.partitions", CONFIG_INT, "16",
	  "Partition count P of the mail and blob topics when they are created; never changes after.", OFF(log_partitions), 1, 4096 },
	{ "log.replication_factor", CONFIG_INT, "3",
	  "Kafka replication factor for created topics (lowered to the broker count when fewer brokers exist).", OFF(log_replication_factor), 1, 32 },
	{ "log.min_insync_replicas", CONFIG_INT, "2",
	  "Kafka min.insync.replicas for created topics (at most the replication factor).", OFF(log_min_insync_replicas), 1, 32 },
	{ "log.segment_bytes", CONFIG_INT, "67108864",
	  "Embedded log: roll to a new segment file after this many bytes.", OFF(log_segment_bytes), 4096, INT64_C(1) << 40 },
	{ "log.segment_ms", CONFIG_INT, "604800000",
	  "Embedded log: roll to a new segment file at the first append once the active one is this old (ms; "
	  "Kafka's segment.ms). Only closed segments are compacted, so this bounds how long deleted bodies "
	  "stay on a node that writes little. 0 = by size only.", OFF(log_segment_ms), 0, INT64_MAX },
	{ "log.linger_ms", CONFIG_INT, "1",
	  "Producer linger: how long a write may wait to share a batch (Kafka linger.ms).", OFF(log_linger_ms), 0, 1000 },
	{ "log.embedded_linger_ms", CONFIG_INT, "0",
	  "Embedded log: how long a write may wait for more to share its fsync. 0: none; the writes that "
	  "arrive while a batch is written and synced form the next batch (group commit without a timer).",
	  OFF(log_embedded_linger_ms), 0, 1000 },
	{ "log.embedded_compact_interval_s", CONFIG_INT, "300",
	  "Embedded log: seconds between compaction passes over the compacted topics (blob, directory, cluster): "
	  "in closed segments only the latest record of each key stays, as Kafka's log cleaner does. 0 = off.",
	  OFF(log_embedded_compact_interval_s), 0, 86400 },
	{ "log.embedded_tombstone_retention_ms", CONFIG_INT, "86400000",
	  "Embedded log: a tombstone (a record with an empty value) in a closed segment of a compacted topic is "
	  "removed once it is older than this, so a reader that is behind still sees the delete (Kafka's "
	  "delete.retention.ms).", OFF(log_embedded_tombstone_retention_ms), 0, INT64_MAX },
	{ "log.write_timeout_ms", CONFIG_INT, "10000",
	  "How long a write waits for the log's acknowledgement before it fails with a temporary error "
	  "(SMTP 451, IMAP NO [UNAVAILABLE], HTTP 503); Kafka's message.timeout.ms is set to it.",
	  OFF(log_write_timeout_ms), 2000, 300000 },
	{ "log.level", CONFIG_STRING, "info",
	  "Diagnostic log level: debug, info, warning, error.", OFF(log_level), 0, 0 },
	{ "mgmt.listen", CONFIG_STRING, "127.0.0.1:8080",
	  "Management HTTP listener: /healthz, /readyz, /metrics and the admin API used by evmailctl.", OFF(mgmt_listen), 0, 0 },
	{ "mgmt.admin_token", CONFIG_STRING, "",
	  "Bearer token required by the admin API (/admin/...); empty means none (keep mgmt.listen on loopback then).", OFF(mgmt_admin_token), 0, 0 },
	{ "projector.batch_max", CONFIG_INT, "1000",
	  "Most events applied in one RocksDB write batch.", OFF(projector_batch_max), 1, 100000 },
	{ "projector.bulk_min", CONFIG_INT, "50000",
	  "A rebuild, or the first replay into an empty view, of at least this many records applies in "
	  "bulk: no write-ahead log until caught up, and a crash meanwhile restarts the replay. 0 = never.",
	  OFF(projector_bulk_min), 0, INT64_MAX },
	{ "projector.ready_lag", CONFIG_INT, "0",
	  "/readyz is ready when every partition's lag is at most this many events.", OFF(projector_ready_lag), 0, INT64_MAX },
	{ "projector.view_write_buffer_mb", CONFIG_INT, "4",
	  "Size of the view's RocksDB memtable in MiB; RocksDB reserves about 1.1 times this on disk "
	  "for each write-ahead log file. A small memtable makes each apply cheaper (its skip list stays "
	  "in the CPU's caches); bulk apply (a rebuild) uses at least 64 MiB.",
	  OFF(view_write_buffer_mb), 1, 4096 },
	{ "projector.heartbeat_ms", CONFIG_INT, "2000",
	  "How often the node publishes its heartbeat to the cluster topic.", OFF(projector_heartbeat_ms), 100, 600000 },
	{ "mail.tombstone_days", CONFIG_DAYS, "30",
	  "Days an expunge tombstone (IMAP QRESYNC VANISHED) and a destroyed JMAP object's change entry are kept; "
	  "a client that last synchronised before that resynchronises in full (RFC 7162 VANISHED (EARLIER) of "
	  "every missing UID, JMAP cannotCalculateChanges). Decimals allowed (0.5). The projector prunes by the "
	  "log's event times, so this MUST be the same on every node: a view or checkpoint made with another "
	  "value is rebuilt from the log (view) or refused (checkpoint).",
	  OFF(mail_tombstone_ms), 1, INT64_C(36500) * 86400000 },
	{ "smtp.listen", CONFIG_STRING, "0.0.0.0:25",
	  "Inbound SMTP (MX) listener, host:port; empty turns it off. Gateway role only.", OFF(smtp_listen), 0, 0 },
	{ "smtp.hostname", CONFIG_STRING, "",
	  "Name in the SMTP greeting and Received: fields (default: node.id).", OFF(smtp_hostname), 0, 0 },
	{ "lmtp.listen", CONFIG_STRING, "",
	  "LMTP listener (RFC 2033) for an MTA in front of evmail, host:port; empty = off.", OFF(lmtp_listen), 0, 0 },
	{ "imap.listen", CONFIG_STRING, "0.0.0.0:143",
	  "IMAP listener (STARTTLS), host:port; empty turns it off. Gateway role only.", OFF(imap_listen), 0, 0 },
	{ "imaps.listen", CONFIG_STRING, "0.0.0.0:993",
	  "IMAP over implicit TLS, host:port; empty = off; only started when tls.cert is set.", OFF(imaps_listen), 0, 0 },
	{ "imap.allow_plaintext_auth", CONFIG_BOOL, "0",
	  "1 allows LOGIN/AUTHENTICATE before STARTTLS on imap.listen (tests, demos); 0 refuses it.", OFF(imap_allow_plaintext_auth), 0, 1 },
	{ "pop3.listen", CONFIG_STRING, "0.0.0.0:110",
	  "POP3 listener (RFC 1939; STLS when tls.cert is set), host:port; empty turns it off. Gateway role only.", OFF(pop3_listen), 0, 0 },
	{ "pop3s.listen", CONFIG_STRING, "0.0.0.0:995",
	  "POP3 over implicit TLS, host:port; empty = off; only started when tls.cert is set.", OFF(pop3s_listen), 0, 0 },
	{ "pop3.allow_plaintext_auth", CONFIG_BOOL, "0",
	  "1 allows USER/PASS/AUTH before STLS on pop3.listen (tests, demos); 0 refuses it.", OFF(pop3_allow_plaintext_auth), 0, 1 },
	{ "http.listen", CONFIG_STRING, "",
	  "HTTP/1.1 listener shared by the HTTP protocols (JMAP), host:port; empty = off. Gateway role only.", OFF(http_listen), 0, 0 },
	{ "https.listen", CONFIG_STRING, "",
	  "HTTP/1.1 over implicit TLS, host:port; empty = off; only started when tls.cert is set.", OFF(https_listen), 0, 0 },
	{ "limits.http_header_bytes", CONFIG_INT, "65536",
	  "Largest HTTP request header section, octets; more is 431. A request line (414 past it) or one field line is at most this and 8 KiB.", OFF(limits_http_header_bytes), 4096, 1048576 },
	{ "limits.http_body", CONFIG_INT, "52428800",
	  "Largest HTTP request body, octets (Content-Length or chunked); more is 413.", OFF(limits_http_body), 1024, INT64_C(2147483647) },
	{ "limits.http_idle_timeout_s", CONFIG_INT, "120",
	  "Seconds an HTTP connection may wait for its next request (keep-alive) or between reads of one.", OFF(limits_http_idle_timeout_s), 1, 86400 },
	{ "jmap.push_allow_http", CONFIG_BOOL, "0",
	  "1 lets a JMAP PushSubscription url be http:// (tests); 0 requires https:// (RFC 8620 7.2).", OFF(jmap_push_allow_http), 0, 1 },
	{ "jmap.push_allow_private", CONFIG_BOOL, "0",
	  "1 lets push POSTs reach loopback, private and link-local addresses (tests); 0 refuses them, so a client cannot aim the server at internal services.", OFF(jmap_push_allow_private), 0, 1 },
	{ "jmap.push_timeout_s", CONFIG_INT, "10",
	  "Seconds one JMAP push POST (PushVerification, StateChange) may take, connection included.", OFF(jmap_push_timeout_s), 1, 300 },
	{ "blob.gc_interval_s", CONFIG_INT, "60",
	  "Body garbage collection: seconds between scans of the node that holds queue partition 0 (the only node on the "
	  "embedded log); 0 = off.", OFF(blob_gc_interval_s), 0, 86400 },
	{ "blob.gc_grace_s", CONFIG_INT, "3600",
	  "A body goes only when its last reference and every upload it loses are older than this, seconds "
	  "(longer than any delivery takes from its chunks to its append).", OFF(blob_gc_grace_s), 1, INT64_C(31536000) },
	{ "retention.interval_s", CONFIG_INT, "3600",
	  "Retention policies (evmailctl retention): seconds between the rounds of the node that holds queue partition 0 "
	  "(the only node on the embedded log), which expunge the messages older than their rule; 0 = off.",
	  OFF(retention_interval_s), 0, 86400 },
	{ "blob.store", CONFIG_STRING, "view",
	  "Where a node keeps bodies: view (every body in this node's view) or log (the view keeps only where each "
	  "chunk is in the blob topic; bodies are read from the log when asked, through a cache of blob.cache_size). "
	  "A view made in the other mode is rebuilt.", OFF(blob_store), 0, 0 },
	{ "blob.cache_size", CONFIG_INT, "268435456",
	  "blob.store = log: octets of bodies kept in <node.data_dir>/blobcache (least recently read go first); 0 = no cache.",
	  OFF(blob_cache_size), 0, INT64_C(1) << 50 },
	{ "blob.upload_ttl_s", CONFIG_INT, "86400",
	  "A JMAP upload keeps its blob at least this long, seconds (RFC 8620 6.1: at least an hour).",
	  OFF(blob_upload_ttl_s), 3600, INT64_C(315360000) },
	{ "submission.listen", CONFIG_STRING, "0.0.0.0:587",
	  "Message submission listener (RFC 6409; STARTTLS required before AUTH), host:port; empty = off. Gateway role only.", OFF(submission_listen), 0, 0 },
	{ "submissions.listen", CONFIG_STRING, "0.0.0.0:465",
	  "Submission over implicit TLS (RFC 8314), host:port; empty = off; only started when tls.cert is set.", OFF(submissions_listen), 0, 0 },
	{ "submission.allow_plaintext_auth", CONFIG_BOOL, "0",
	  "1 allows AUTH before STARTTLS on submission.listen (tests only); 0 refuses it (530 5.7.0).", OFF(submission_allow_plaintext_auth), 0, 1 },
	{ "limits.submission_per_hour", CONFIG_INT, "1000",
	  "Most messages one account may submit per hour (sliding window, per node); 0 = unlimited.", OFF(limits_submission_per_hour), 0, 100000000 },
	{ "auth.cache_ttl_s", CONFIG_INT, "0",
	  "Seconds a successful password check is remembered, so the same account and password log in again without "
	  "yescrypt (IMAP, POP3, SMTP AUTH); per node, successes only (every failure is checked in full); a changed "
	  "password never matches; 0 = off.", OFF(auth_cache_ttl_s), 0, 86400 },
	{ "auth.cache_size", CONFIG_INT, "10000",
	  "Most accounts the password cache holds (per node); the least recently used is evicted when full.",
	  OFF(auth_cache_size), 1, 10000000 },
	{ "auth.failure_delay_ms", CONFIG_INT, "2000",
	  "Every failed authentication (IMAP, POP3, submission, JMAP, admin token) is answered this many milliseconds "
	  "late, without holding the loop or a worker (Dovecot's auth_failure_delay).", OFF(auth_failure_delay_ms), 0, 60000 },
	{ "auth.max_failures_ip", CONFIG_INT, "10",
	  "Failed authentications from one client IP (IPv6: its /64) within auth.window_s after which that client is "
	  "refused for auth.lockout_s without any check (per node); 0 = no per-IP lockout.", OFF(auth_max_failures_ip), 0, 1000000 },
	{ "auth.max_failures_account", CONFIG_INT, "20",
	  "Failed authentications of one account within auth.window_s after which it is refused for auth.lockout_s to "
	  "every client that has not logged in to it within the window (per node); 0 = no per-account lockout.",
	  OFF(auth_max_failures_account), 0, 1000000 },
	{ "auth.window_s", CONFIG_INT, "300",
	  "The window in which failed authentications are counted, seconds.", OFF(auth_window_s), 1, 86400 },
	{ "auth.lockout_s", CONFIG_INT, "900",
	  "How long a client or account over its failure limit is refused, seconds.", OFF(auth_lockout_s), 1, 604800 },
	{ "auth.throttle_size", CONFIG_INT, "100000",
	  "Most clients, and most accounts, the login throttle remembers (per node); the least recently used is "
	  "evicted when full.", OFF(auth_throttle_size), 1, 10000000 },
	{ "auth.throttle_exempt", CONFIG_STRING, "",
	  "Comma list of addresses or CIDRs (10.0.0.0/8, 2001:db8::/32) never counted nor locked out by the login "
	  "throttle (their failures are still delayed); loopback is not exempt unless listed.", OFF(auth_throttle_exempt), 0, 0 },
	{ "dkim.sign", CONFIG_BOOL, "1",
	  "Sign submitted mail with the sender domain's DKIM keys (evmailctl dkim create).", OFF(dkim_sign), 0, 1 },
	{ "forward.srs_secret_file", CONFIG_STRING, "",
	  "File holding the SRS secret (first line, 16+ octets; the same on every node, kept across restarts): aliases "
	  "with remote targets forward through the queue with SRS and ARC; empty = remote alias targets are ignored.",
	  OFF(forward_srs_secret_file), 0, 0 },
	{ "crypto.master_key_file", CONFIG_STRING, "",
	  "File holding the cluster's master key (32 octets as 64 hex digits or base64; mode 0600, the same on every "
	  "node, never logged): accounts get data keys wrapped under it and the personal content of their events is "
	  "sealed, so evmailctl account erase makes even the log unreadable; empty = nothing sealed.",
	  OFF(crypto_master_key_file), 0, 0 },
	{ "crypto.old_master_key_files", CONFIG_STRING, "",
	  "Comma list of earlier master key files, after a master key rotation: data keys wrapped under them still "
	  "open; new keys use crypto.master_key_file.", OFF(crypto_old_master_key_files), 0, 0 },
	{ "delivery.relay", CONFIG_STRING, "",
	  "Send every remote message through this smart host, host:port (as Postfix's relayhost; no MX lookup); empty = deliver by MX.", OFF(delivery_relay), 0, 0 },
	{ "delivery.relay_user", CONFIG_STRING, "",
	  "AUTH user name for delivery.relay (AUTH only when set; TLS is then required).", OFF(delivery_relay_user), 0, 0 },
	{ "delivery.relay_password_file", CONFIG_STRING, "",
	  "File holding the AUTH password for delivery.relay (first line).", OFF(delivery_relay_password_file), 0, 0 },
	{ "delivery.relay_tls", CONFIG_STRING, "verify",
	  "TLS toward relays and routes: none, may (opportunistic), encrypt (required, unverified), verify (required, certificate and name checked).", OFF(delivery_relay_tls), 0, 0 },
	{ "delivery.routes", CONFIG_STRING, "",
	  "Per-domain routes (transport map): domain=host:port[,domain=host:port...]; in a file also 'delivery.route.DOMAIN = host:port'.", OFF(delivery_routes), 0, 0 },
	{ "delivery.smtp_port", CONFIG_INT, "25",
	  "TCP port of MX hosts (25; tests point it elsewhere). TLSA names follow it (RFC 7672 2.2.3).", OFF(delivery_smtp_port), 1, 65535 },
	{ "delivery.helo_name", CONFIG_STRING, "",
	  "Name sent in EHLO by the delivery role (default: smtp.hostname, else node.id).", OFF(delivery_helo_name), 0, 0 },
	{ "delivery.retry_min_s", CONFIG_INT, "300",
	  "First retry delay after a temporary failure, seconds (doubles per attempt).", OFF(delivery_retry_min_s), 1, 86400 },
	{ "delivery.retry_max_s", CONFIG_INT, "3600",
	  "Longest delay between two attempts, seconds.", OFF(delivery_retry_max_s), 1, 604800 },
	{ "delivery.max_lifetime_s", CONFIG_INT, "432000",
	  "Give up and bounce after a message has been queued this long, seconds (default 5 days).", OFF(delivery_max_lifetime_s), 1, 5184000 },
	{ "delivery.delay_warning_s", CONFIG_INT, "14400",
	  "Send a delay DSN to the sender once a message has waited this long, seconds; 0 = never.", OFF(delivery_delay_warning_s), 0, 5184000 },
	{ "delivery.concurrency", CONFIG_INT, "100",
	  "Most outbound SMTP connections a delivery node keeps open at once.", OFF(delivery_concurrency), 1, 100000 },
	{ "delivery.concurrency_per_domain", CONFIG_INT, "10",
	  "Most outbound SMTP connections to one destination domain at once.", OFF(delivery_concurrency_per_domain), 1, 10000 },
	{ "delivery.messages_per_connection", CONFIG_INT, "100",
	  "Most messages sent over one outbound connection before it is closed.", OFF(delivery_messages_per_connection), 1, 100000 },
	{ "delivery.connect_timeout_s", CONFIG_INT, "30",
	  "Outbound TCP connect timeout, seconds.", OFF(delivery_connect_timeout_s), 1, 3600 },
	{ "delivery.command_timeout_s", CONFIG_INT, "300",
	  "Time to wait for one SMTP reply, seconds (RFC 5321 4.5.3.2).", OFF(delivery_command_timeout_s), 1, 3600 },
	{ "delivery.tls_ca_file", CONFIG_STRING, "",
	  "CA bundle for verifying MTA-STS policy hosts, MX hosts under MTA-STS, and relays (default: the system's).", OFF(delivery_tls_ca_file), 0, 0 },
	{ "delivery.mta_sts", CONFIG_BOOL, "1",
	  "Apply MTA-STS policies (RFC 8461) of destination domains.", OFF(delivery_mta_sts), 0, 1 },
	{ "delivery.mta_sts_port", CONFIG_INT, "443",
	  "HTTPS port of mta-sts.<domain> policy hosts (443; tests point it elsewhere).", OFF(delivery_mta_sts_port), 1, 65535 },
	{ "delivery.dane", CONFIG_BOOL, "1",
	  "Apply DANE (RFC 7672): TLSA records under DNSSEC make TLS mandatory and pin the certificate.", OFF(delivery_dane), 0, 1 },
	{ "inbound.auth", CONFIG_BOOL, "1",
	  "Check SPF, DKIM, DMARC and ARC of mail received on smtp.listen and add Authentication-Results.", OFF(inbound_auth), 0, 1 },
	{ "inbound.dmarc_reject", CONFIG_STRING, "reject",
	  "What a DMARC p=reject failure gets: reject (550 5.7.1), quarantine (into Junk) or none.", OFF(inbound_dmarc_reject), 0, 0 },
	{ "inbound.arc_trusted_sealers", CONFIG_STRING, "",
	  "Domains (comma-separated) whose valid ARC seals let a DMARC failure be accepted (RFC 8617 7.2); every sealer of the chain must be listed.", OFF(inbound_arc_trusted_sealers), 0, 0 },
	{ "dns.resolvers", CONFIG_STRING, "",
	  "DNS servers the delivery role asks, ip[@port][,ip[@port]...]; empty = those of /etc/resolv.conf.", OFF(dns_resolvers), 0, 0 },
	{ "dns.trust_anchor_file", CONFIG_STRING, "/usr/share/dns/root.key",
	  "DNSSEC trust anchor(s) in zone-file form (DS or DNSKEY); empty or missing file = no validation (no DANE).", OFF(dns_trust_anchor_file), 0, 0 },
	{ "tls.cert", CONFIG_STRING, "",
	  "PEM certificate chain for STARTTLS and implicit TLS; empty = no TLS offered.", OFF(tls_cert), 0, 0 },
	{ "tls.key", CONFIG_STRING, "",
	  "PEM private key matching tls.cert.", OFF(tls_key), 0, 0 },
	{ "tls.min_version", CONFIG_STRING, "1.2",
	  "Oldest TLS version the listeners accept: 1.2 or 1.3 (RFC 8996: 1.0 and 1.1 are never offered).", OFF(tls_min_version), 0, 0 },
	{ "tls.ciphers", CONFIG_STRING, "",
	  "TLS 1.2 cipher list (OpenSSL syntax), server preference; empty = Mozilla's \"intermediate\" list (ECDHE/DHE with AES-GCM or ChaCha20-Poly1305).", OFF(tls_ciphers), 0, 0 },
	{ "tls.ciphersuites", CONFIG_STRING, "",
	  "TLS 1.3 cipher suites (OpenSSL syntax); empty = TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256.", OFF(tls_ciphersuites), 0, 0 },
	{ "limits.smtp_line_length", CONFIG_INT, "4096",
	  "Longest SMTP command or message line accepted, octets (RFC 5321 4.5.3.1 minimums: 512 and 1000).", OFF(limits_smtp_line_length), 1000, 1048576 },
	{ "limits.message_size", CONFIG_INT, "52428800",
	  "Largest message accepted, octets (advertised as SIZE).", OFF(limits_message_size), 1024, INT64_C(2147483647) },
	{ "limits.recipients", CONFIG_INT, "100",
	  "Most recipients in one SMTP transaction (RFC 5321 4.5.3.1.8: at least 100).", OFF(limits_recipients), 1, 100000 },
	{ "limits.smtp_errors", CONFIG_INT, "10",
	  "Errors in one SMTP session before it is disconnected.", OFF(limits_smtp_errors), 1, 1000 },
	{ "limits.smtp_command_timeout_s", CONFIG_INT, "300",
	  "Idle time allowed between SMTP commands, seconds (RFC 5321 4.5.3.2.7).", OFF(limits_smtp_command_timeout_s), 1, 86400 },
	{ "limits.smtp_data_timeout_s", CONFIG_INT, "600",
	  "Idle time allowed while receiving message data, seconds.", OFF(limits_smtp_data_timeout_s), 1, 86400 },
	{ "limits.imap_idle_timeout_s", CONFIG_INT, "1800",
	  "Idle time allowed to an authenticated IMAP session, seconds (RFC 9051 5.4: at least 30 min).", OFF(limits_imap_idle_timeout_s), 60, 86400 },
	{ "limits.imap_preauth_timeout_s", CONFIG_INT, "60",
	  "Time allowed to an IMAP session before it authenticates, seconds.", OFF(limits_imap_preauth_timeout_s), 5, 3600 },
	{ "limits.imap_literal", CONFIG_INT, "52428800",
	  "Largest IMAP literal (APPEND message) accepted after login, octets (advertised as APPENDLIMIT).", OFF(limits_imap_literal), 1024, INT64_C(2147483647) },
	{ "limits.connections", CONFIG_INT, "2000",
	  "Most concurrent connections per listener.", OFF(limits_connections), 1, 1000000 },
	{ "limits.connections_per_ip", CONFIG_INT, "50",
	  "Most concurrent connections from one client IP per listener.", OFF(limits_connections_per_ip), 1, 1000000 },
	{ "limits.smtp_conn_per_ip", CONFIG_INT, "0",
	  "Most concurrent connections from one client IP to the SMTP listener (421 4.7.0); 0 = limits.connections_per_ip.",
	  OFF(limits_smtp_conn_per_ip), 0, 1000000 },
	{ "limits.smtp_msgs_per_min_ip", CONFIG_INT, "0",
	  "Most messages one client IP may start on the SMTP listener per minute (sliding, per node); MAIL beyond it gets "
	  "451 4.7.1; 0 = unlimited.", OFF(limits_smtp_msgs_per_min_ip), 0, 100000000 },
	{ "limits.smtp_rcpts_per_min_ip", CONFIG_INT, "0",
	  "Most recipients one client IP may give on the SMTP listener per minute (sliding, per node); RCPT beyond it gets "
	  "451 4.7.1; 0 = unlimited.", OFF(limits_smtp_rcpts_per_min_ip), 0, 100000000 },
};
const size_t config_keys_count = sizeof config_keys / sizeof config_keys[0];

static char config_error[512];

static const struct config_key *config_find(const char *name)
{
	for (size_t i = 0; i < config_keys_count; i++) {
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	}
	return NULL;
}

int config_parse_bool(const char *v)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* "delivery.route.DOMAIN = host:port" (file form) adds DOMAIN=host:port to
 * delivery.routes. */
static int config_add_route(struct evm_config *cfg, const char *domain, const char *target,
			    const char **error_r)
{
	struct buf b = BUF_INIT;

	if (domain[0] == '\0' || strchr(domain, ',') != NULL || strchr(domain, '=') != NULL ||
	    target[0] == '\0' || strchr(target, ',') != NULL) {
		snprintf(config_error, sizeof config_error, "delivery.route.%s: bad domain or host:port", domain);
		*error_r = config_error;
		return -1;
	}
	if (cfg->delivery_routes != NULL && cfg->delivery_routes[0] != '\0')
		buf_printf(&b, "%s,", cfg->delivery_routes);
	buf_printf(&b, "%s=%s", domain, target);
	free(cfg->delivery_routes);
	cfg->delivery_routes = buf_steal(&b);
	return 0;
}

int config_parse_days(const char *v, int64_t max_ms, int64_t *ms_r)
{
	int64_t whole = 0, frac = 0, scale = 1;
	const char *p = v;

	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (*p - '0');
		if (whole > max_ms / 86400000 + 1)
			return -1;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		for (; isdigit((unsigned char)*p); p++) {
			if (scale == 1000000000)
				return -1;
			frac = frac * 10 + (*p - '0');
			scale *= 10;
		}
	}
	if (*p != '\0')
		return -1;
	/* frac / scale < 1 and scale <= 1e9: frac * 86400000 fits in int64 */
	*ms_r = whole * 86400000 + frac * 86400000 / scale;
	return *ms_r > max_ms ? -1 : 0;
}

static int config_apply(struct evm_config *cfg, const struct config_key *k, const char *value,
			const char **error_r)
{
	char *base = (char *)cfg;

	switch (k->type) {
	case CONFIG_STRING: {
		char **slot = (char **)(base + k->offset);
		free(*slot);
		*slot = xstrdup(value);
		return 0;
	}
	case CONFIG_INT: {
		int64_t *slot = (int64_t *)(base + k->offset);
		char *end;
		long long v;
		errno = 0;
		v = strtoll(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0' || v < k->min || v > k->max) {
			snprintf(config_error, sizeof config_error,
				 "%s: '%s' is not an integer from %lld to %lld", k->name, value,
				 (long long)k->min, (long long)k->max);
			*error_r = config_error;
			return -1;
		}
		*slot = v;
		return 0;
	}
	case CONFIG_DAYS: {
		int64_t *slot = (int64_t *)(base + k->offset), ms;

		if (config_parse_days(value, k->max, &ms) < 0 || ms < k->min) {
			snprintf(config_error, sizeof config_error,
				 "%s: '%s' is not a number of days (decimals allowed) from %.9g to %lld", k->name,
				 value, (double)k->min / 86400000, (long long)(k->max / 86400000));
			*error_r = config_error;
			return -1;
		}
		*slot = ms;
		return 0;
	}
	case CONFIG_BOOL: {
		int64_t *slot = (int64_t *)(base + k->offset);
		int b = config_parse_bool(value);
		if (b < 0) {
			snprintf(config_error, sizeof config_error,
				 "%s: '%s' is not a boolean (true/false, yes/no, on/off, 1/0)", k->name, value);
			*error_r = config_error;
			return -1;
		}
		*slot = b;
		return 0;
	}
	case CONFIG_BACKEND: {
		enum evm_log_backend *slot = (enum evm_log_backend *)(base + k->offset);
		if (strcmp(value, "embedded") == 0)
			*slot = EVM_LOG_EMBEDDED;
		else if (strcmp(value, "kafka") == 0)
			*slot = EVM_LOG_KAFKA;
		else {
			snprintf(config_error, sizeof config_error,
				 "%s: '%s' is not one of embedded, kafka", k->name, value);
			*error_r = config_error;
			return -1;
		}
		return 0;
	}
	}
	return 0;
}

int config_set(struct evm_config *cfg, const char *key, const char *value, const char **error_r)
{
	const struct config_key *k = config_find(key);

	if (k == NULL && strncmp(key, "delivery.route.", 15) == 0)
		return config_add_route(cfg, key + 15, value, error_r);
	if (k == NULL) {
		snprintf(config_error, sizeof config_error, "unknown configuration key '%s'", key);
		*error_r = config_error;
		return -1;
	}
	return config_apply(cfg, k, value, error_r);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int config_read_file(struct evm_config *cfg, const char *path, const char **error_r)
{
	FILE *f = fopen(path, "r");
	char line[4096], section[128] = "";
	int lineno = 0;

	if (f == NULL) {
		snprintf(config_error, sizeof config_error, "cannot open %s: %s", path, strerror(errno));
		*error_r = config_error;
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *s, *eq, *key, *val, full[300];
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(config_error, sizeof config_error, "%s:%d: line too long", path, lineno);
			goto fail;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (close == NULL || close[1] != '\0' || (size_t)(close - s - 1) >= sizeof section) {
				snprintf(config_error, sizeof config_error, "%s:%d: bad section header", path, lineno);
				goto fail;
			}
			*close = '\0';
			snprintf(section, sizeof section, "%s", trim(s + 1));
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			snprintf(config_error, sizeof config_error, "%s:%d: expected key = value", path, lineno);
			goto fail;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if (strlen(val) >= 2 && val[0] == '"' && val[strlen(val) - 1] == '"') {
			val[strlen(val) - 1] = '\0';
			val++;
		}
		if (section[0] != '\0' && strchr(key, '.') == NULL) {
			if ((size_t)snprintf(full, sizeof full, "%s.%s", section, key) >= sizeof full) {
				snprintf(config_error, sizeof config_error, "%s:%d: key too long", path, lineno);
				goto fail;
			}
		} else {
			snprintf(full, sizeof full, "%s", key);
		}
		if (config_set(cfg, full, val, error_r) < 0) {
			char inner[512];
			snprintf(inner, sizeof inner, "%s", *error_r);
			snprintf(config_error, sizeof config_error, "%s:%d: %s", path, lineno, inner);
			goto fail;
		}
	}
	fclose(f);
	return 0;
fail:
	fclose(f);
	*error_r = config_error;
	return -1;
}

/* EVMAIL_<SECTION>_<KEY>: "log.topic_prefix" -> "EVMAIL_LOG_TOPIC_PREFIX". */
static void config_env_name(const char *key, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "EVMAIL_");
	for (const char *p = key; *p != '\0' && n + 1 < size; p++)
		out[n++] = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
	out[n] = '\0';
}

int config_load(const char *path, struct evm_config *cfg_r, const char **error_r)
{
	char host[256];
	int backend_set = 0;

	memset(cfg_r, 0, sizeof *cfg_r);
	for (size_t i = 0; i < config_keys_count; i++) {
		if (config_keys[i].def != NULL &&
		    config_apply(cfg_r, &config_keys[i], config_keys[i].def, error_r) < 0)
			return -1;
	}
	if (gethostname(host, sizeof host) != 0 || host[0] == '\0')
		snprintf(host, sizeof host, "node");
	host[sizeof host - 1] = '\0';
	cfg_r->node_id = xstrdup(host);
	cfg_r->log_backend = (enum evm_log_backend)-1;

	if (path == NULL)
		path = getenv("EVMAIL_CONFIG");
	if (path != NULL && *path != '\0') {
		if (config_read_file(cfg_r, path, error_r) < 0)
			goto fail;
		cfg_r->source = xstrdup(path);
	} else {
		cfg_r->source = xstrdup("");
	}
	for (size_t i = 0; i < config_keys_count; i++) {
		char env[128];
		const char *v;
		config_env_name(config_keys[i].name, env, sizeof env);
		v = getenv(env);
		if (v != NULL && config_apply(cfg_r, &config_keys[i], v, error_r) < 0) {
			char inner[512];
			snprintf(inner, sizeof inner, "%s", *error_r);
			snprintf(config_error, sizeof config_error, "environment %s: %s", env, inner);
			*error_r = config_error;
			goto fail;
		}
	}
	backend_set = (int)cfg_r->log_backend != -1;
	if (!backend_set)
		cfg_r->log_backend = cfg_r->log_brokers[0] != '\0' ? EVM_LOG_KAFKA : EVM_LOG_EMBEDDED;
	if (cfg_r->log_backend == EVM_LOG_KAFKA && cfg_r->log_brokers[0] == '\0') {
		*error_r = "log.backend is kafka but log.brokers is empty";
		goto fail;
	}
	if (cfg_r->node_id[0] == '\0' || strlen(cfg_r->node_id) > 200) {
		*error_r = "node.id must be 1 to 200 characters";
		goto fail;
	}
	if (cfg_r->log_topic_prefix[0] == '\0' || strlen(cfg_r->log_topic_prefix) > 100) {
		*error_r = "log.topic_prefix must be 1 to 100 characters";
		goto fail;
	}
	if ((cfg_r->tls_cert[0] == '\0') != (cfg_r->tls_key[0] == '\0')) {
		*error_r = "tls.cert and tls.key must be set together";
		goto fail;
	}
	if (strcmp(cfg_r->tls_min_version, "1.2") != 0 && strcmp(cfg_r->tls_min_version, "1.3") != 0) {
		*error_r = "tls.min_version must be 1.2 or 1.3";
		goto fail;
	}
	if (strcmp(cfg_r->blob_store, "view") != 0 && strcmp(cfg_r->blob_store, "log") != 0) {
		*error_r = "blob.store must be view or log";
		goto fail;
	}
	if (cfg_r->log_min_insync_replicas > cfg_r->log_replication_factor)
		cfg_r->log_min_insync_replicas = cfg_r->log_replication_factor;
	return 0;
fail:
	config_free(cfg_r);
	return -1;
}

void config_free(struct evm_config *cfg)
{
	for (size_t i = 0; i < config_keys_count; i++) {
		if (config_keys[i].type == CONFIG_STRING) {
			char **slot = (char **)((char *)cfg + config_keys[i].offset);
			free(*slot);
			*slot = NULL;
		}
	}
	free(cfg->source);
	cfg->source = NULL;
}

void config_print(const struct evm_config *cfg, FILE *out)
{
	const char *base = (const char *)cfg;

	fprintf(out, "# evmail configuration (source: %s)\n", cfg->source[0] ? cfg->source : "defaults + environment");
	for (size_t i = 0; i < config_keys_count; i++) {
		const struct config_key *k = &config_keys[i];
		char env[128];
		config_env_name(k->name, env, sizeof env);
		fprintf(out, "\n# %s\n# environment: %s\n", k->doc, env);
		switch (k->type) {
		case CONFIG_STRING: {
			const char *v = *(char *const *)(base + k->offset);
			if (strcmp(k->name, "mgmt.admin_token") == 0 && v[0] != '\0')
				v = "********";
			fprintf(out, "%s = %s\n", k->name, v);
			break;
		}
		case CONFIG_BOOL:
		case CONFIG_INT:
			fprintf(out, "%s = %lld\n", k->name, (long long)*(const int64_t *)(base + k->offset));
			break;
		case CONFIG_DAYS: {
			int64_t ms = *(const int64_t *)(base + k->offset);

			fprintf(out, "%s = %lld.%08lld\n", k->name, (long long)(ms / 86400000),
				(long long)(ms % 86400000 * 100000000 / 86400000));
			break;
		}
		case CONFIG_BACKEND:
			fprintf(out, "%s = %s\n", k->name,
				cfg->log_backend == EVM_LOG_KAFKA ? "kafka" : "embedded");
			break;
		}
	}
}

const char *config_topic(const struct evm_config *cfg, const char *suffix)
{
	static __thread char name[256];

	snprintf(name, sizeof name, "%s%s", cfg->log_topic_prefix, suffix);
	return name;
}

int config_has_role(const struct evm_config *cfg, const char *role)
{
	size_t n = strlen(role);
	const char *p = cfg->node_roles;

	while (*p != '\0') {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		while (len > 0 && *p == ' ') {
			p++;
			len--;
		}
		if (len == n && strncmp(p, role, n) == 0)
			return 1;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return 0;
}

int config_blob_store_log(const struct evm_config *cfg)
{
	return cfg->blob_store != NULL && strcmp(cfg->blob_store, "log") == 0;
}
