// The Partner grants tab: workspaces this organization shares with partner
// organizations (offered with grantWorkspaceAccess, ended with
// revokeWorkspaceAccess), and offers other organizations made to this one
// (accepted or declined by its admins).
import { useState } from 'react';
import { Badge, Empty, ErrorAlert, Loading, Time, useMutation, useQuery, TableWrap } from '../../ui.jsx';

// The API lists grants per workspace (there is no organization-wide list of
// outgoing grants), so this reads a page of workspaces with a page of grants
// each, within the server's complexity limit; "Show more" reads on.
const OUTGOING = `query OutgoingGrants($id: ID!, $after: String) {
  organization(id: $id) {
    id
    workspaces(first: 20, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { id name grants(first: 20) { nodes { id status createdAt expiresAt granteeOrganization { id name } } } }
    }
  }
}`;
// The workspace of an offer not yet accepted may be out of the partner's
// reach, so this query takes partial answers (see useQuery's partial).
const INCOMING = `query IncomingGrants($id: ID!) {
  organization(id: $id) {
    id
    incomingGrants(first: 50) {
      nodes { id status createdAt expiresAt ownerVerifiedDomains organization { id name } workspace { id name } }
    }
  }
}`;
const GRANT = `mutation Grant($input: GrantWorkspaceAccessInput!) { grantWorkspaceAccess(input: $input) { id status } }`;
const REVOKE = `mutation RevokeGrant($id: ID!) { revokeWorkspaceAccess(id: $id) }`;
const ACCEPT = `mutation AcceptGrant($id: ID!) { acceptWorkspaceGrant(id: $id) { id status } }`;
const DECLINE = `mutation DeclineGrant($id: ID!) { declineWorkspaceGrant(id: $id) { id status } }`;

export default function Grants({ org, can }) {
  return (
    <>
      <div className="section-head"><h2 id="tab-title">Partner grants</h2></div>
      <p className="muted">
        A grant gives a partner organization time-limited access to one workspace, once an admin of the partner accepts it.
      </p>
      <Outgoing org={org} can={can} />
      <Incoming org={org} can={can} />
    </>
  );
}

function Outgoing({ org, can }) {
  const [after, setAfter] = useState(null);
  const { data, error, loading, reload } = useQuery(OUTGOING, { id: org.id, after });
  const grant = useMutation(GRANT);
  const revoke = useMutation(REVOKE);
  const [workspaceId, setWorkspaceId] = useState('');
  const [partner, setPartner] = useState('');
  const [until, setUntil] = useState('');
  const [notice, setNotice] = useState('');

  const workspaces = data?.organization.workspaces.nodes ?? [];
  const rows = workspaces.flatMap((w) => w.grants.nodes.map((g) => ({ ...g, workspace: w })));

  async function submit(e) {
    e.preventDefault();
    const input = { workspaceId: workspaceId || workspaces[0]?.id, granteeOrganizationId: partner.trim() };
    if (until) input.expiresAt = new Date(`${until}T23:59:59`).toISOString();
    const d = await grant.run({ input });
    if (d) {
      setNotice('Access offered. It starts when an admin of the partner accepts it.');
      setPartner('');
      reload();
    }
  }
  async function revokeOne(g) {
    if (await revoke.run({ id: g.id })) {
      setNotice(`Access to “${g.workspace.name}” for ${g.granteeOrganization.name} ended.`);
      reload();
    }
  }

  return (
    <section className="subsection" aria-labelledby="outgoing-title">
      <h3 id="outgoing-title">Shared with partners</h3>
      <p className="sr-only" role="status" aria-live="polite">{notice}</p>
      {notice && <p className="notice">{notice}</p>}
      {can.admin && workspaces.length > 0 && (
        <form className="form form-inline" onSubmit={submit} data-testid="grant-form">
          <div className="field">
            <label htmlFor="grant-workspace">Workspace</label>
            <select id="grant-workspace" value={workspaceId} onChange={(e) => setWorkspaceId(e.target.value)}>
              {workspaces.map((w) => <option key={w.id} value={w.id}>{w.name}</option>)}
            </select>
          </div>
          <div className="field">
            <label htmlFor="grant-partner">Partner organization ID</label>
            <input id="grant-partner" required value={partner} onChange={(e) => setPartner(e.target.value)} aria-describedby="grant-partner-help" />
            <p id="grant-partner-help" className="help">Ask the partner's admin for their organization ID.</p>
          </div>
          <div className="field">
            <label htmlFor="grant-until">Until <span className="muted">(default 30 days)</span></label>
            <input id="grant-until" type="date" value={until} onChange={(e) => setUntil(e.target.value)} />
          </div>
          <button type="submit" className="btn btn-primary" disabled={grant.busy} data-admin-action="grant-access">Offer access</button>
        </form>
      )}
      <ErrorAlert error={grant.error} title="Access was not offered" />
      <ErrorAlert error={revoke.error} title="The grant was not ended" />
      <ErrorAlert error={error} title="The grants could not be loaded" />
      {loading && !data && <Loading label="Loading grants…" />}
      {data && rows.length === 0 && <Empty>No workspace {after ? 'on this page ' : ''}is shared with a partner.</Empty>}
      {rows.length > 0 && (
        <TableWrap label="Workspaces shared with partners">
          <table className="table" data-testid="outgoing-grants">
            <caption className="sr-only">Workspaces shared with partners</caption>
            <thead>
              <tr><th scope="col">Workspace</th><th scope="col">Partner</th><th scope="col">Status</th><th scope="col">Expires</th>
                {can.admin && <th scope="col"><span className="sr-only">Actions</span></th>}</tr>
            </thead>
            <tbody>
              {rows.map((g) => (
                <tr key={g.id}>
                  <th scope="row">{g.workspace.name}</th>
                  <td>{g.granteeOrganization.name}</td>
                  <td><Badge value={g.status} /></td>
                  <td><Time value={g.expiresAt} /></td>
                  {can.admin && (
                    <td className="actions">
                      <button type="button" className="btn btn-small btn-danger-quiet" onClick={() => revokeOne(g)} disabled={revoke.busy}
                        data-admin-action="revoke-grant" aria-label={`End access to ${g.workspace.name} for ${g.granteeOrganization.name}`}>
                        End access
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      {(after || data?.organization.workspaces.pageInfo.hasNextPage) && (
        <nav className="pager" aria-label="Workspace pages">
          <button type="button" className="btn" disabled={!after} onClick={() => setAfter(null)}>First workspaces</button>
          <button type="button" className="btn" disabled={!data?.organization.workspaces.pageInfo.hasNextPage}
            onClick={() => setAfter(data.organization.workspaces.pageInfo.endCursor)}>Next workspaces</button>
        </nav>
      )}
    </section>
  );
}

function Incoming({ org, can }) {
  const { data, error, loading, reload } = useQuery(INCOMING, { id: org.id }, undefined, { partial: true });
  const accept = useMutation(ACCEPT);
  const decline = useMutation(DECLINE);
  const [notice, setNotice] = useState('');
  const rows = data?.data?.organization?.incomingGrants.nodes ?? [];

  async function answer(g, yes) {
    const d = await (yes ? accept : decline).run({ id: g.id });
    if (d) {
      setNotice(`Offer from ${g.organization.name} ${yes ? 'accepted' : 'declined'}.`);
      reload();
    }
  }

  return (
    <section className="subsection" aria-labelledby="incoming-title">
      <h3 id="incoming-title">Offered to this organization</h3>
      <p className="sr-only" role="status" aria-live="polite">{notice}</p>
      {notice && <p className="notice">{notice}</p>}
      <ErrorAlert error={accept.error || decline.error} title="The offer was not answered" />
      <ErrorAlert error={error} title="The offers could not be loaded" />
      {loading && !data && <Loading label="Loading offers…" />}
      {data && rows.length === 0 && <Empty>No offers from other organizations.</Empty>}
      {rows.length > 0 && (
        <TableWrap label="Workspace offers from other organizations">
          <table className="table" data-testid="incoming-grants">
            <caption className="sr-only">Workspace offers from other organizations</caption>
            <thead>
              <tr><th scope="col">From</th><th scope="col">Workspace</th><th scope="col">Status</th><th scope="col">Expires</th>
                {can.admin && <th scope="col"><span className="sr-only">Actions</span></th>}</tr>
            </thead>
            <tbody>
              {rows.map((g) => (
                <tr key={g.id}>
                  <th scope="row">
                    <span className="cell-title">{g.organization.name}</span>
                    <span className="cell-sub muted">
                      {g.ownerVerifiedDomains.length ? `Verified: ${g.ownerVerifiedDomains.join(', ')}` : 'No verified domain'}
                    </span>
                  </th>
                  <td>{g.workspace?.name ?? <span className="muted">Shown once accepted</span>}</td>
                  <td><Badge value={g.status} /></td>
                  <td><Time value={g.expiresAt} /></td>
                  {can.admin && (
                    <td className="actions">
                      {g.status === 'PENDING' && (
                        <>
                          <button type="button" className="btn btn-small btn-primary" onClick={() => answer(g, true)}
                            disabled={accept.busy} data-admin-action="accept-grant" aria-label={`Accept the offer from ${g.organization.name}`}>Accept</button>
                          <button type="button" className="btn btn-small" onClick={() => answer(g, false)}
                            disabled={decline.busy} data-admin-action="decline-grant" aria-label={`Decline the offer from ${g.organization.name}`}>Decline</button>
                        </>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </section>
  );
}
