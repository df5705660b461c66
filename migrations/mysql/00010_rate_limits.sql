-- Rate limits shared by every replica (internal/ratelimit). Nothing here is
-- kept in a process: any replica decides from these rows.
--
-- rate_limits: one GCRA bucket a row. tat is the bucket's theoretical
--   arrival time in microseconds since the Unix epoch. With a rate of L per
--   period P, a request of cost c is allowed when
--   MAX(tat, now) + c*P/L - now <= P, and then tat becomes
--   MAX(tat, now) + c*P/L. A row whose tat has passed says no more than a
--   missing row (a full bucket): replicas delete such rows (rate_limits_tat).
--   scope: 'ip' (anonymous callers by address, IPv6 by /64), 'user' (a
--   user's sessions), 'token' (an API token), 'org' (a tenant organization);
--   subject: the address or the row ID. Same character set as users.id and
--   organizations.id: authentication reads a caller's buckets in its own
--   statement, joined on those IDs.
-- login_throttles: failed password sign-ins, per account and client.
--   account is the hex SHA-256 of the normalized email (the table lists no
--   addresses; unknown addresses are throttled exactly like accounts);
--   client is the caller's address (IPv6 by /64), or '*' for the account
--   from every client. failures counts attempts since the last success
--   (each attempt counts when it starts, and a success resets it), forgotten
--   after a quiet hour; locked_until is the exponential backoff. On a client
--   row, last_success_at makes the client known to the account. On the '*'
--   row, unreported/unreported_since/reported_at aggregate user.login_failed
--   audit events: at most one an account per window, with a count.
--   expires_at: when the row says nothing any more and may be deleted.

-- +goose Up
CREATE TABLE rate_limits (
  scope   VARCHAR(8)  NOT NULL,
  subject VARCHAR(64) NOT NULL,
  tat     BIGINT      NOT NULL,
  PRIMARY KEY (scope, subject),
  KEY rate_limits_tat (tat)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE login_throttles (
  account          CHAR(64)    NOT NULL,
  client           VARCHAR(64) NOT NULL,
  failures         INT         NOT NULL DEFAULT 0,
  locked_until     DATETIME(6) NULL,
  last_failure_at  DATETIME(6) NULL,
  last_success_at  DATETIME(6) NULL,
  unreported       INT         NOT NULL DEFAULT 0,
  unreported_since DATETIME(6) NULL,
  reported_at      DATETIME(6) NULL,
  expires_at       DATETIME(6) NOT NULL,
  PRIMARY KEY (account, client),
  KEY login_throttles_expires (expires_at),
  CONSTRAINT login_throttles_counts CHECK (failures >= 0 AND unreported >= 0)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE login_throttles;
DROP TABLE rate_limits;
