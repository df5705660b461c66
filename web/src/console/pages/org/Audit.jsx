// The Audit log tab: the organization's audit events, newest first, with
// filters (actions, outcome, actor, time range) and paging by cursor: the
// API pages forward only, so Previous goes back through a stack of the
// cursors that led to each page.
import { useState } from 'react';
import { Empty, ErrorAlert, Loading, useQuery, TableWrap } from '../../ui.jsx';

const PAGE_SIZE = 25;

const AUDIT = `query Audit($id: ID!, $first: Int, $after: String, $filter: AuditEventFilter) {
  organization(id: $id) {
    id
    auditEvents(first: $first, after: $after, filter: $filter) {
      pageInfo { hasNextPage endCursor }
      nodes { id action outcome actorId actorEmail targetType targetId metadata ipAddress requestId createdAt }
    }
  }
}`;

// The actions the service records (CONTRACT.md); free text is allowed too.
const KNOWN_ACTIONS = [
  'access.denied', 'organization.created', 'organization.updated', 'user.registered', 'user.login', 'user.login_failed',
  'user.sso_provisioned', 'user.sso_login', 'user.role_changed', 'user.deactivated', 'workspace.created',
  'workspace.updated', 'workspace.deleted', 'invitation.created', 'invitation.accepted', 'invitation.revoked',
  'grant.accepted', 'grant.declined', 'domain.added', 'domain.verified', 'user.sessions_revoked',
];

const EMPTY_FILTER = { actions: '', outcome: '', actorId: '', since: '', until: '' };

/** The form's values as an AuditEventFilter (empty fields left out). */
function toFilter(f) {
  const out = {};
  const actions = f.actions.split(',').map((a) => a.trim()).filter(Boolean);
  if (actions.length) out.actions = actions;
  if (f.outcome) out.outcome = f.outcome;
  if (f.actorId.trim()) out.actorId = f.actorId.trim();
  if (f.since) out.since = new Date(f.since).toISOString();
  if (f.until) out.until = new Date(f.until).toISOString();
  return out;
}

export default function Audit({ org }) {
  const [form, setForm] = useState(EMPTY_FILTER);
  const [filter, setFilter] = useState({});
  const [cursors, setCursors] = useState([null]); // cursors[i] = the `after` of page i
  const after = cursors[cursors.length - 1];
  const { data, error, loading } = useQuery(AUDIT, { id: org.id, first: PAGE_SIZE, after, filter });
  const conn = data?.organization.auditEvents;
  const events = conn?.nodes ?? [];
  const set = (k) => (e) => setForm({ ...form, [k]: e.target.value });

  function apply(e) {
    e.preventDefault();
    setFilter(toFilter(form));
    setCursors([null]);
  }
  function clear() {
    setForm(EMPTY_FILTER);
    setFilter({});
    setCursors([null]);
  }

  return (
    <>
      <div className="section-head"><h2 id="tab-title">Audit log</h2></div>
      <form className="panel form filters" onSubmit={apply} aria-label="Filter audit events" data-testid="audit-filters">
        <div className="field">
          <label htmlFor="audit-actions">Actions <span className="muted">(comma-separated)</span></label>
          <input id="audit-actions" list="audit-action-list" value={form.actions} onChange={set('actions')} placeholder="workspace.created" />
          <datalist id="audit-action-list">
            {KNOWN_ACTIONS.map((a) => <option key={a} value={a} />)}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="audit-outcome">Outcome</label>
          <select id="audit-outcome" value={form.outcome} onChange={set('outcome')}>
            <option value="">Any</option>
            <option value="SUCCESS">Success</option>
            <option value="DENIED">Denied</option>
            <option value="FAILURE">Failure</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="audit-actor">Actor ID</label>
          <input id="audit-actor" value={form.actorId} onChange={set('actorId')} />
        </div>
        <div className="field">
          <label htmlFor="audit-since">From</label>
          <input id="audit-since" type="datetime-local" value={form.since} onChange={set('since')} />
        </div>
        <div className="field">
          <label htmlFor="audit-until">Until</label>
          <input id="audit-until" type="datetime-local" value={form.until} onChange={set('until')} />
        </div>
        <div className="form-actions">
          <button type="submit" className="btn btn-primary">Apply filters</button>
          <button type="button" className="btn" onClick={clear}>Clear</button>
        </div>
      </form>
      <ErrorAlert error={error} title="The audit log could not be loaded" />
      {loading && <Loading label="Loading events…" />}
      {!loading && data && events.length === 0 && <Empty>No events match.</Empty>}
      {events.length > 0 && !loading && (
        <TableWrap label="Audit events">
          <table className="table table-dense" data-testid="audit-table">
            <caption className="sr-only">Audit events, newest first, page {cursors.length}</caption>
            <thead>
              <tr>
                <th scope="col">Time</th><th scope="col">Action</th><th scope="col">Outcome</th>
                <th scope="col">Actor</th><th scope="col">Target</th><th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {events.map((ev) => (
                <tr key={ev.id} data-testid="audit-row">
                  <td className="nowrap"><time dateTime={ev.createdAt}>{new Date(ev.createdAt).toLocaleString()}</time></td>
                  <th scope="row"><code>{ev.action}</code></th>
                  <td><span className={`badge badge-${ev.outcome.toLowerCase()}`}>{ev.outcome}</span></td>
                  <td>{ev.actorEmail ?? <span className="muted">{ev.actorId ?? 'system'}</span>}
                    {ev.ipAddress && <span className="cell-sub muted">{ev.ipAddress}</span>}</td>
                  <td>{ev.targetType ?? '—'}{ev.targetId && <span className="cell-sub muted mono">{ev.targetId}</span>}</td>
                  <td>
                    <details>
                      <summary>Show</summary>
                      <pre className="json">{JSON.stringify(ev.metadata, null, 2)}</pre>
                      {ev.requestId && <p className="small muted">Request ID <code>{ev.requestId}</code></p>}
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <nav className="pager" aria-label="Audit log pages">
        <button type="button" className="btn" disabled={cursors.length === 1 || loading} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous
        </button>
        <span className="muted" aria-live="polite">Page {cursors.length}</span>
        <button type="button" className="btn" disabled={!conn?.pageInfo.hasNextPage || loading}
          onClick={() => setCursors([...cursors, conn.pageInfo.endCursor])}>
          Next
        </button>
      </nav>
    </>
  );
}
