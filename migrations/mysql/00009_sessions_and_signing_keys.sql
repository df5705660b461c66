-- Sessions that can be ended, and signing keys shared by every replica.
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
-- signing_keys: the service's token signing keys when
--   NEOSC_KEY_ENCRYPTION_KEY is set. id is the kid (RFC 7638 thumbprint).
--   generation orders the keys; its unique key is what makes creating the
--   first key safe when replicas start together (one insert wins, the
--   others read it). A key signs from activates_at until a newer key
--   activates; it verifies while expires_at is NULL (it is the newest) or
--   in the future, or keep_until (the latest expiry of an API token it
--   signed) is. private_key is the private JWK sealed with AES-256-GCM under
--   NEOSC_KEY_ENCRYPTION_KEY (base64 of nonce || ciphertext, the kid as
--   additional data); public_key is the public JWK in clear.

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

CREATE TABLE signing_keys (
  id           VARCHAR(64)  NOT NULL,
  generation   INT          NOT NULL,
  algorithm    VARCHAR(16)  NOT NULL,
  public_key   TEXT         NOT NULL,
  private_key  TEXT         NOT NULL,
  created_at   DATETIME(6)  NOT NULL,
  activates_at DATETIME(6)  NOT NULL,
  expires_at   DATETIME(6)  NULL,
  keep_until   DATETIME(6)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY signing_keys_generation (generation)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE revoked_sessions;
ALTER TABLE users DROP COLUMN sessions_valid_after;
