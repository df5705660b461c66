// The Members tab: the organization's users; its admins also see the
// invitations, invite people (inviteUser) and revoke pending invitations.
import { useEffect, useState } from 'react';
import { gql } from '../../api.js';
import { Badge, Empty, ErrorAlert, Loading, Time, useMutation, usePages, useQuery, TableWrap } from '../../ui.jsx';

const PAGE_SIZE = 50;

const USERS = `query Users($id: ID!, $first: Int, $after: String) {
  organization(id: $id) {
    id
    users(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { id email name role platformAdmin status createdAt lastLoginAt ssoIssuer }
    }
  }
}`;
const INVITATIONS = `query Invitations($id: ID!) {
  organization(id: $id) {
    id
    invitations(first: 50, status: PENDING) { totalCount nodes { id email role status expiresAt createdAt invitedBy { id name } } }
  }
}`;
const INVITE = `mutation Invite($input: InviteUserInput!) { inviteUser(input: $input) { id email role status expiresAt } }`;
const SET_ROLE = `mutation SetUserRole($userId: ID!, $role: OrgRole!) { setUserRole(userId: $userId, role: $role) { id role status } }`;
const DEACTIVATE = `mutation DeactivateUser($userId: ID!) { deactivateUser(userId: $userId) { id role status } }`;
const REACTIVATE = `mutation ReactivateUser($userId: ID!) { reactivateUser(userId: $userId) { id role status } }`;
const REVOKE = `mutation RevokeInvitation($id: ID!) { revokeInvitation(id: $id) { id status } }`;

export default function Members({ org, can, me }) {
  const { items: users, setItems: setUsers, page, error, loading, load } = usePages(async (after) => {
    const d = await gql(USERS, { id: org.id, first: PAGE_SIZE, after });
    return d.organization.users;
  });
  const setRole = useMutation(SET_ROLE);
  const deactivate = useMutation(DEACTIVATE);
  const reactivate = useMutation(REACTIVATE);
  const [notice, setNotice] = useState('');
  const [failed, setFailed] = useState(null);

  // Replaces a user's row with the mutation's answer.
  function patch(u) {
    setUsers((prev) => prev.map((x) => (x.id === u.id ? { ...x, ...u } : x)));
  }
  async function changeRole(u, role) {
    setNotice('');
    setFailed(null);
    const d = await setRole.run({ userId: u.id, role });
    if (!d) {
      setFailed({ title: `The role of ${u.name} was not changed`, which: 'role' });
      return;
    }
    patch(d.setUserRole);
    setNotice(`${u.name} is now ${role === 'ADMIN' ? 'an admin' : 'a member'}.`);
  }
  async function changeStatus(u, active) {
    setNotice('');
    setFailed(null);
    const m = active ? reactivate : deactivate;
    const d = await m.run({ userId: u.id });
    if (!d) {
      setFailed({ title: `${u.name} was not ${active ? 'reactivated' : 'deactivated'}`, which: active ? 'reactivate' : 'deactivate' });
      return;
    }
    patch(active ? d.reactivateUser : d.deactivateUser);
    setNotice(`${u.name} is ${active ? 'active again' : 'deactivated: their sessions have ended'}.`);
  }
  const busy = setRole.busy || deactivate.busy || reactivate.busy;

  useEffect(() => {
    load(null);
  }, [org.id]);

  return (
    <>
      <div className="section-head">
        <h2 id="tab-title">Members</h2>
        {page && <p className="muted">{page.totalCount === 1 ? '1 user' : `${page.totalCount} users`}</p>}
      </div>
      <ErrorAlert error={error} title="The members could not be loaded" />
      <p className="sr-only" role="status" aria-live="polite">{notice}</p>
      {notice && <p className="notice" data-testid="member-notice">{notice}</p>}
      {failed && <ErrorAlert error={{ role: setRole, deactivate, reactivate }[failed.which].error} title={failed.title} />}
      {users.length > 0 && (
        <TableWrap label={`Users of ${org.name}`}>
          <table className="table" data-testid="members-table">
            <caption className="sr-only">Users of {org.name}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col">Last sign-in</th>
                <th scope="col">Joined</th>
                {can.admin && <th scope="col"><span className="sr-only">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id} data-testid="member-row" data-user-id={u.id} data-email={u.email}>
                  <th scope="row">
                    <span className="cell-title">{u.name}{u.id === me?.id && <span className="muted"> (you)</span>}</span>
                    <span className="cell-sub muted">{u.email}</span>
                  </th>
                  <td>
                    {can.admin && u.status !== 'PENDING' ? (
                      <select value={u.role} disabled={busy} onChange={(e) => changeRole(u, e.target.value)}
                        aria-label={`Role of ${u.name}`} data-admin-action="set-role" data-testid="role-select">
                        <option value="MEMBER">Member</option>
                        <option value="ADMIN">Admin</option>
                      </select>
                    ) : u.role === 'ADMIN' ? 'Admin' : 'Member'}
                    {u.platformAdmin && <span className="cell-sub muted">Platform admin</span>}
                    {u.ssoIssuer && <span className="cell-sub muted">SSO</span>}
                  </td>
                  <td><Badge value={u.status} /></td>
                  <td><Time value={u.lastLoginAt} /></td>
                  <td><Time value={u.createdAt} date /></td>
                  {can.admin && (
                    <td className="nowrap">
                      {u.status === 'DEACTIVATED' ? (
                        <button type="button" className="btn btn-small" disabled={busy} onClick={() => changeStatus(u, true)}
                          data-admin-action="reactivate-user" aria-label={`Reactivate ${u.name}`}>Reactivate</button>
                      ) : u.status === 'ACTIVE' ? (
                        <button type="button" className="btn btn-small btn-danger-quiet" disabled={busy} onClick={() => changeStatus(u, false)}
                          data-admin-action="deactivate-user" aria-label={`Deactivate ${u.name}`}>Deactivate</button>
                      ) : null}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      {loading && <Loading label="Loading members…" />}
      {page?.pageInfo.hasNextPage && !loading && (
        <p className="center"><button type="button" className="btn" onClick={() => load(page.pageInfo.endCursor)}>Show more members</button></p>
      )}
      {can.readAdmin && <Invitations org={org} can={can} />}
    </>
  );
}

function Invitations({ org, can }) {
  const { data, error, loading, reload } = useQuery(INVITATIONS, { id: org.id });
  const invite = useMutation(INVITE);
  const revoke = useMutation(REVOKE);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState('MEMBER');
  const [notice, setNotice] = useState('');

  async function submit(e) {
    e.preventDefault();
    const d = await invite.run({ input: { email: email.trim(), role } });
    if (d) {
      setNotice(`Invitation sent to ${d.inviteUser.email}.`);
      setEmail('');
      reload();
    }
  }
  async function revokeOne(inv) {
    const d = await revoke.run({ id: inv.id });
    if (d) {
      setNotice(`Invitation for ${inv.email} revoked.`);
      reload();
    }
  }

  const items = data?.organization.invitations.nodes ?? [];
  return (
    <section className="subsection" aria-labelledby="invitations-title">
      <h3 id="invitations-title">Pending invitations</h3>
      <p className="sr-only" role="status" aria-live="polite">{notice}</p>
      {notice && <p className="notice">{notice}</p>}
      {can.admin && (
        <form className="form form-inline" onSubmit={submit} data-testid="invite-form">
          <div className="field">
            <label htmlFor="invite-email">Email address</label>
            <input id="invite-email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor="invite-role">Role</label>
            <select id="invite-role" value={role} onChange={(e) => setRole(e.target.value)}>
              <option value="MEMBER">Member</option>
              <option value="ADMIN">Admin</option>
            </select>
          </div>
          <button type="submit" className="btn btn-primary" disabled={invite.busy} data-admin-action="invite-user">
            {invite.busy ? 'Sending…' : 'Invite'}
          </button>
        </form>
      )}
      <ErrorAlert error={invite.error} title="The invitation was not sent" />
      <ErrorAlert error={revoke.error} title="The invitation was not revoked" />
      <ErrorAlert error={error} title="The invitations could not be loaded" />
      {loading && !data && <Loading label="Loading invitations…" />}
      {data && items.length === 0 && <Empty>No pending invitations.</Empty>}
      {items.length > 0 && (
        <ul className="list">
          {items.map((inv) => (
            <li key={inv.id} className="list-row">
              <span>
                <span className="cell-title">{inv.email}</span>
                <span className="cell-sub muted">
                  {inv.role === 'ADMIN' ? 'Admin' : 'Member'} · expires <Time value={inv.expiresAt} />
                  {inv.invitedBy && <> · invited by {inv.invitedBy.name}</>}
                </span>
              </span>
              {can.admin && (
                <button type="button" className="btn btn-small btn-danger-quiet" onClick={() => revokeOne(inv)}
                  disabled={revoke.busy} data-admin-action="revoke-invitation" aria-label={`Revoke the invitation for ${inv.email}`}>
                  Revoke
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
