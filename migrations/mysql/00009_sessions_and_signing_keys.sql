-- Sessions that can be ended.
--
-- users.sessions_valid_after: the user's service session tokens issued
--   (iat) before this instant are refused: signOutEverywhere,
--   revokeSessions and changePassword move it forward. NULL: none refused.
-- revoked_sessions: the denylist of single session tokens ended by signOut,
--   by jti, kept until the token's own expiry (expires_at), after which the
--   token is refused anyway and the row is deleted. Authentication checks it
--   in the one statement that loads the caller (a primary-key probe). No
--   foreign key: like audit_events and mail_outbox, a row names its user and
--   organization by value; it is deleted once its token has expired (each
--   signOut deletes the expired rows, through the expires_at index).

-- +goose Up
ALTER TABLE users ADD COLUMN sessions_valid_after DATETIME(6) NULL;

CREATE TABLE revoked_sessions (
  jti             VARCHAR(64) NOT NULL,
  organization_id CHAR(36)    NOT NULL,
  user_id         CHAR(36)    NOT NULL,
  expires_at      DATETIME(6) NOT NULL,
  created_at      DATETIME(6) NOT NULL,
  PRIMARY KEY (jti),
  KEY revoked_sessions_expiry (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE revoked_sessions;
ALTER TABLE users DROP COLUMN sessions_valid_after;
