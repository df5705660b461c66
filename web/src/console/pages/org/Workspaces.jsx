// The Workspaces tab: every workspace of the organization; its admins create,
// edit, start, stop and delete them (createWorkspace, updateWorkspace,
// deleteWorkspace). Starting and stopping set the workspace's status.
import { useEffect, useState } from 'react';
import { gql } from '../../api.js';
import { Badge, Empty, ErrorAlert, Loading, Time, formatMemory, useMutation, usePages, TableWrap } from '../../ui.jsx';

const PAGE_SIZE = 50;

const FIELDS = `id name description type connectionType status imageUrl url cpuCores memoryMb storageGb createdAt updatedAt`;

const WORKSPACES = `query Workspaces($id: ID!, $first: Int, $after: String) {
  organization(id: $id) {
    id
    workspaces(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { ${FIELDS} } }
  }
}`;
const CREATE = `mutation CreateWorkspace($input: CreateWorkspaceInput!) { createWorkspace(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation UpdateWorkspace($id: ID!, $input: UpdateWorkspaceInput!) { updateWorkspace(id: $id, input: $input) { ${FIELDS} } }`;
const DELETE = `mutation DeleteWorkspace($id: ID!) { deleteWorkspace(id: $id) }`;

// The schema's enums and the service's bounds (internal/workspaces).
const TYPES = ['LINUX', 'WINDOWS', 'BROWSER', 'DEV', 'ADMIN'];
const CONNECTIONS = ['HTML5', 'RDP', 'VNC', 'WEB', 'BROWSER'];
const BOUNDS = { cpuCores: [1, 256], memoryMb: [128, 1048576], storageGb: [1, 65536] };

const label = (v) => v.charAt(0) + v.slice(1).toLowerCase();

export default function Workspaces({ org, can, onOrgChanged }) {
  const { items, page, error, loading, load } = usePages(async (after) => {
    const d = await gql(WORKSPACES, { id: org.id, first: PAGE_SIZE, after });
    return d.organization.workspaces;
  });
  const [editing, setEditing] = useState(null); // null, 'new' or a workspace
  const [notice, setNotice] = useState('');

  useEffect(() => {
    load(null);
  }, [org.id]);

  function changed(message) {
    setNotice(message);
    setEditing(null);
    load(null);
    onOrgChanged();
  }

  return (
    <>
      <div className="section-head">
        <h2 id="tab-title">Workspaces</h2>
        {can.admin && editing === null && (
          <button type="button" className="btn btn-primary" data-admin-action="create-workspace"
            onClick={() => { setNotice(''); setEditing('new'); }}>
            New workspace
          </button>
        )}
      </div>
      <p className="sr-only" role="status" aria-live="polite">{notice}</p>
      {notice && <p className="notice" data-testid="notice">{notice}</p>}
      {can.admin && editing !== null && (
        <WorkspaceForm
          workspace={editing === 'new' ? null : editing}
          onCancel={() => setEditing(null)}
          onSaved={(w, created) => changed(created ? `Workspace “${w.name}” created.` : `Workspace “${w.name}” saved.`)}
        />
      )}
      <ErrorAlert error={error} title="The workspaces could not be loaded" />
      {!loading && !error && items.length === 0 && (
        <Empty>No workspaces yet.{can.admin && ' Create the first one with “New workspace”.'}</Empty>
      )}
      {items.length > 0 && (
        <TableWrap label={`Workspaces of ${org.name}`}>
          <table className="table" data-testid="workspaces-table">
            <caption className="sr-only">Workspaces of {org.name}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Resources</th>
                <th scope="col">Updated</th>
                {can.admin && <th scope="col"><span className="sr-only">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {items.map((w) => (
                <WorkspaceRow key={w.id} w={w} can={can} onEdit={() => { setNotice(''); setEditing(w); }} onChanged={changed} />
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      {loading && <Loading label="Loading workspaces…" />}
      {page?.pageInfo.hasNextPage && !loading && (
        <p className="center"><button type="button" className="btn" onClick={() => load(page.pageInfo.endCursor)}>Show more workspaces</button></p>
      )}
    </>
  );
}

function WorkspaceRow({ w, can, onEdit, onChanged }) {
  const update = useMutation(UPDATE);
  const del = useMutation(DELETE);
  const [confirming, setConfirming] = useState(false);
  const running = w.status === 'RUNNING';

  async function toggle() {
    const d = await update.run({ id: w.id, input: { status: running ? 'STOPPED' : 'RUNNING' } });
    if (d) onChanged(`Workspace “${w.name}” ${running ? 'stopped' : 'started'}.`);
  }
  async function remove() {
    const d = await del.run({ id: w.id });
    if (d) onChanged(`Workspace “${w.name}” deleted.`);
  }

  return (
    <tr data-testid="workspace-row" data-workspace-id={w.id}>
      <th scope="row">
        <span className="cell-title">{w.name}</span>
        {w.description && <span className="cell-sub muted">{w.description}</span>}
        {w.url && <span className="cell-sub"><a href={w.url} rel="noopener noreferrer" target="_blank">{w.url}</a></span>}
      </th>
      <td>{label(w.type)}<span className="cell-sub muted">{w.connectionType}</span></td>
      <td><Badge value={w.status} testId="workspace-status" /></td>
      <td className="nowrap">{w.cpuCores} vCPU · {formatMemory(w.memoryMb)} · {w.storageGb} GB</td>
      <td><Time value={w.updatedAt} /></td>
      {can.admin && (
        <td className="actions">
          {confirming ? (
            <span className="confirm" role="group" aria-label={`Confirm deleting ${w.name}`}>
              <span>Delete “{w.name}”?</span>
              <button type="button" className="btn btn-danger btn-small" onClick={remove} disabled={del.busy} data-admin-action="confirm-delete-workspace">
                Delete
              </button>
              <button type="button" className="btn btn-small" onClick={() => setConfirming(false)}>Cancel</button>
            </span>
          ) : (
            <>
              <button type="button" className="btn btn-small" onClick={toggle} disabled={update.busy}
                data-admin-action={running ? 'stop-workspace' : 'start-workspace'} aria-label={`${running ? 'Stop' : 'Start'} ${w.name}`}>
                {running ? 'Stop' : 'Start'}
              </button>
              <button type="button" className="btn btn-small" onClick={onEdit} data-admin-action="edit-workspace" aria-label={`Edit ${w.name}`}>
                Edit
              </button>
              <button type="button" className="btn btn-small btn-danger-quiet" onClick={() => setConfirming(true)}
                data-admin-action="delete-workspace" aria-label={`Delete ${w.name}`}>
                Delete
              </button>
            </>
          )}
          <ErrorAlert error={update.error || del.error} title="The workspace was not changed" />
        </td>
      )}
    </tr>
  );
}

function WorkspaceForm({ workspace, onCancel, onSaved }) {
  const creating = !workspace;
  const [f, setF] = useState(() => ({
    name: workspace?.name ?? '',
    description: workspace?.description ?? '',
    type: workspace?.type ?? 'LINUX',
    connectionType: workspace?.connectionType ?? 'HTML5',
    cpuCores: String(workspace?.cpuCores ?? 2),
    memoryMb: String(workspace?.memoryMb ?? 4096),
    storageGb: String(workspace?.storageGb ?? 50),
    url: workspace?.url ?? '',
    imageUrl: workspace?.imageUrl ?? '',
  }));
  const m = useMutation(creating ? CREATE : UPDATE);
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const fieldError = (k) => (m.error?.field === k ? m.error.message : null);

  async function submit(e) {
    e.preventDefault();
    const input = {
      name: f.name.trim(),
      description: f.description,
      type: f.type,
      connectionType: f.connectionType,
      cpuCores: Number(f.cpuCores),
      memoryMb: Number(f.memoryMb),
      storageGb: Number(f.storageGb),
    };
    // An empty URL clears it on edit; on create it is simply left out.
    if (f.url.trim() || !creating) input.url = f.url.trim();
    if (f.imageUrl.trim() || !creating) input.imageUrl = f.imageUrl.trim();
    const d = await m.run(creating ? { input } : { id: workspace.id, input });
    if (d) onSaved(creating ? d.createWorkspace : d.updateWorkspace, creating);
  }

  const idp = creating ? 'ws-new' : `ws-${workspace.id}`;
  const num = (k, text, unit) => (
    <div className="field">
      <label htmlFor={`${idp}-${k}`}>{text} <span className="muted">({unit})</span></label>
      <input id={`${idp}-${k}`} type="number" inputMode="numeric" required min={BOUNDS[k][0]} max={BOUNDS[k][1]} step="1"
        value={f[k]} onChange={set(k)} aria-invalid={fieldError(k) ? true : undefined}
        aria-describedby={fieldError(k) ? `${idp}-${k}-err` : undefined} />
      {fieldError(k) && <p className="field-error" id={`${idp}-${k}-err`}>{fieldError(k)}</p>}
    </div>
  );

  return (
    <form className="panel form form-grid" onSubmit={submit} aria-labelledby={`${idp}-title`} data-testid="workspace-form">
      <h3 id={`${idp}-title`} className="form-title">{creating ? 'New workspace' : `Edit “${workspace.name}”`}</h3>
      <ErrorAlert error={m.error} title={creating ? 'The workspace was not created' : 'The workspace was not saved'} />
      <div className="field span-2">
        <label htmlFor={`${idp}-name`}>Name</label>
        <input id={`${idp}-name`} name="name" required maxLength={100} value={f.name} onChange={set('name')}
          aria-invalid={fieldError('name') ? true : undefined} />
      </div>
      <div className="field span-2">
        <label htmlFor={`${idp}-description`}>Description <span className="muted">(optional)</span></label>
        <textarea id={`${idp}-description`} rows={2} maxLength={2000} value={f.description} onChange={set('description')} />
      </div>
      <div className="field">
        <label htmlFor={`${idp}-type`}>Type</label>
        <select id={`${idp}-type`} value={f.type} onChange={set('type')}>
          {TYPES.map((t) => <option key={t} value={t}>{label(t)}</option>)}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${idp}-connection`}>Connection</label>
        <select id={`${idp}-connection`} value={f.connectionType} onChange={set('connectionType')}>
          {CONNECTIONS.map((t) => <option key={t} value={t}>{t}</option>)}
        </select>
      </div>
      {num('cpuCores', 'CPU cores', 'vCPU')}
      {num('memoryMb', 'Memory', 'MiB')}
      {num('storageGb', 'Storage', 'GB')}
      <div className="field">
        <label htmlFor={`${idp}-url`}>URL <span className="muted">(optional)</span></label>
        <input id={`${idp}-url`} type="url" placeholder="https://" value={f.url} onChange={set('url')}
          aria-invalid={fieldError('url') ? true : undefined} />
        {fieldError('url') && <p className="field-error">{fieldError('url')}</p>}
      </div>
      <div className="field span-2">
        <label htmlFor={`${idp}-image`}>Image URL <span className="muted">(optional)</span></label>
        <input id={`${idp}-image`} type="url" placeholder="https://" value={f.imageUrl} onChange={set('imageUrl')} />
        {fieldError('imageUrl') && <p className="field-error">{fieldError('imageUrl')}</p>}
      </div>
      <div className="form-actions span-2">
        <button type="submit" className="btn btn-primary" disabled={m.busy} data-admin-action="save-workspace">
          {m.busy ? 'Saving…' : creating ? 'Create workspace' : 'Save changes'}
        </button>
        <button type="button" className="btn" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}
