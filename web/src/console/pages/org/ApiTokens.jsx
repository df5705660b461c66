// The API tokens tab: the organization's tokens for partner integrations.
// Its admins create them (the secret is shown once, here) and revoke them.
import { useState } from 'react';
import { Empty, ErrorAlert, Loading, Time, useMutation, useQuery, TableWrap } from '../../ui.jsx';

const TOKENS = `query ApiTokens($id: ID!) {
  organization(id: $id) {
    id
    apiTokens(first: 100) { totalCount nodes { id name scopes expiresAt createdAt lastUsedAt revokedAt } }
  }
}`;
const CREATE = `mutation CreateApiToken($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { token apiToken { id name scopes expiresAt } }
}`;
const REVOKE = `mutation RevokeApiToken($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }`;

const SCOPES = [
  ['READ_ORGANIZATION', 'Read the organization, its counts and users'],
  ['READ_WORKSPACES', 'Read workspaces'],
  ['WRITE_WORKSPACES', 'Create, change and delete workspaces'],
  ['READ_AUDIT', 'Read the audit trail'],
];
const LIFETIMES = [30, 90, 180, 365];

export default function ApiTokens({ org, can }) {
  const { data, error, loading, reload } = useQuery(TOKENS, { id: org.id });
  const create = useMutation(CREATE);
  const revoke = useMutation(REVOKE);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState(['READ_WORKSPACES']);
  const [days, setDays] = useState('90');
  const [secret, setSecret] = useState(null); // {name, token}
  const [copied, setCopied] = useState(false);
  const [notice, setNotice] = useState('');

  async function submit(e) {
    e.preventDefault();
    const expiresAt = new Date(Date.now() + Number(days) * 86400_000).toISOString();
    const d = await create.run({ input: { name: name.trim(), scopes, expiresAt } });
    if (d) {
      setSecret({ name: d.createApiToken.apiToken.name, token: d.createApiToken.token });
      setCopied(false);
      setName('');
      reload();
    }
  }
  async function copy() {
    try {
      await navigator.clipboard.writeText(secret.token);
      setCopied(true);
    } catch {
      document.getElementById('token-secret')?.select();
    }
  }
  async function revokeOne(t) {
    const d = await revoke.run({ id: t.id });
    if (d) {
      setNotice(`Token “${t.name}” revoked.`);
      reload();
    }
  }
  const toggle = (s) => (e) => setScopes(e.target.checked ? [...scopes, s] : scopes.filter((x) => x !== s));
  const items = data?.organization.apiTokens.nodes ?? [];

  return (
    <>
      <div className="section-head"><h2 id="tab-title">API tokens</h2></div>
      <p className="muted">Tokens let partner integrations call the API for this organization, within their scopes.</p>
      <p className="sr-only" role="status" aria-live="polite">{notice || (secret ? 'New token created.' : '')}</p>
      {notice && <p className="notice">{notice}</p>}
      {secret && (
        <div className="alert alert-secret" data-testid="token-secret-box">
          <p className="alert-title">Copy the token “{secret.name}” now</p>
          <p>This is the only time it is shown. Store it in a secret manager; if it is lost, revoke it and create another.</p>
          <div className="secret-row">
            <label htmlFor="token-secret" className="sr-only">The new token</label>
            <input id="token-secret" readOnly value={secret.token} onFocus={(e) => e.target.select()} data-testid="token-secret" />
            <button type="button" className="btn" onClick={copy}>{copied ? 'Copied' : 'Copy'}</button>
            <button type="button" className="btn btn-quiet" onClick={() => setSecret(null)}>Done</button>
          </div>
        </div>
      )}
      {can.admin && (
        <form className="panel form" onSubmit={submit} data-testid="token-form" aria-labelledby="token-form-title">
          <h3 id="token-form-title" className="form-title">New API token</h3>
          <ErrorAlert error={create.error} title="The token was not created" />
          <div className="form-grid">
            <div className="field">
              <label htmlFor="token-name">Name</label>
              <input id="token-name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. Billing sync" />
            </div>
            <div className="field">
              <label htmlFor="token-days">Expires in</label>
              <select id="token-days" value={days} onChange={(e) => setDays(e.target.value)}>
                {LIFETIMES.map((d) => <option key={d} value={d}>{d} days</option>)}
              </select>
            </div>
          </div>
          <fieldset className="field">
            <legend>Scopes</legend>
            {SCOPES.map(([s, text]) => (
              <label key={s} className="check">
                <input type="checkbox" checked={scopes.includes(s)} onChange={toggle(s)} />
                <span><code>{s}</code> <span className="muted">{text}</span></span>
              </label>
            ))}
          </fieldset>
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={create.busy || scopes.length === 0} data-admin-action="create-token">
              {create.busy ? 'Creating…' : 'Create token'}
            </button>
          </div>
        </form>
      )}
      <ErrorAlert error={revoke.error} title="The token was not revoked" />
      <ErrorAlert error={error} title="The tokens could not be loaded" />
      {loading && !data && <Loading label="Loading tokens…" />}
      {data && items.length === 0 && <Empty>No API tokens.</Empty>}
      {items.length > 0 && (
        <TableWrap label={`API tokens of ${org.name}`}>
          <table className="table" data-testid="tokens-table">
            <caption className="sr-only">API tokens of {org.name}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">Created</th>
                <th scope="col">Expires</th><th scope="col">Last used</th><th scope="col">State</th>
                {can.admin && <th scope="col"><span className="sr-only">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {items.map((t) => {
                const expired = new Date(t.expiresAt) < new Date();
                return (
                  <tr key={t.id} data-testid="token-row">
                    <th scope="row">{t.name}</th>
                    <td>{t.scopes.map((s) => <code key={s} className="scope">{s}</code>)}</td>
                    <td><Time value={t.createdAt} /></td>
                    <td><Time value={t.expiresAt} date /></td>
                    <td><Time value={t.lastUsedAt} /></td>
                    <td>
                      {t.revokedAt ? <span className="badge badge-revoked">Revoked</span>
                        : expired ? <span className="badge badge-expired">Expired</span>
                        : <span className="badge badge-active">Active</span>}
                    </td>
                    {can.admin && (
                      <td className="actions">
                        {!t.revokedAt && !expired && (
                          <button type="button" className="btn btn-small btn-danger-quiet" onClick={() => revokeOne(t)}
                            disabled={revoke.busy} data-admin-action="revoke-token" aria-label={`Revoke ${t.name}`}>
                            Revoke
                          </button>
                        )}
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableWrap>
      )}
    </>
  );
}
