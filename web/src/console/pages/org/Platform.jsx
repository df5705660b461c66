// The Platform tab (platform administrators only): suspend or reactivate
// the organization (setOrganizationStatus, with a reason for the audit
// trail) and replace its quota (setOrganizationQuota). Also the quota
// fields the Organizations page's "New organization" form uses.
import { useState } from 'react';
import { ErrorAlert, RESOURCES, UsageBars, useMutation } from '../../ui.jsx';

const SET_STATUS = `mutation SetOrganizationStatus($id: ID!, $status: OrganizationStatus!, $reason: String) {
  setOrganizationStatus(id: $id, status: $status, reason: $reason) { id status }
}`;
const SET_QUOTA = `mutation SetOrganizationQuota($id: ID!, $input: QuotaInput!) {
  setOrganizationQuota(id: $id, input: $input) { id quota { maxUsers maxWorkspaces maxCpuCores maxMemoryMb maxStorageGb } }
}`;

/** A QuotaInput from the form's strings: empty is null (unlimited). */
export function quotaInput(values) {
  const input = {};
  for (const r of RESOURCES) {
    const v = String(values[r.max] ?? '').trim();
    input[r.max] = v === '' ? null : Number(v);
  }
  return input;
}

/** The form's strings from a Quota. */
function quotaValues(quota) {
  const v = {};
  for (const r of RESOURCES) v[r.max] = quota?.[r.max] == null ? '' : String(quota[r.max]);
  return v;
}

/** One number field per quota limit; empty means unlimited. */
export function QuotaFields({ idPrefix, value, onChange }) {
  return RESOURCES.map((r) => (
    <div className="field" key={r.max}>
      <label htmlFor={`${idPrefix}-${r.max}`}>{r.field}</label>
      <input id={`${idPrefix}-${r.max}`} type="number" min={0} step={1} inputMode="numeric" placeholder="Unlimited"
        value={value[r.max] ?? ''} onChange={(e) => onChange({ ...value, [r.max]: e.target.value })} />
    </div>
  ));
}

export default function Platform({ org, onOrgChanged }) {
  const status = useMutation(SET_STATUS);
  const setQuota = useMutation(SET_QUOTA);
  const [reason, setReason] = useState('');
  const [quota, setQuotaValues] = useState(() => quotaValues(org.quota));
  const [notice, setNotice] = useState('');
  const suspended = org.status === 'SUSPENDED';

  async function changeStatus(e) {
    e.preventDefault();
    const next = suspended ? 'ACTIVE' : 'SUSPENDED';
    const d = await status.run({ id: org.id, status: next, reason: reason.trim() || null });
    if (d) {
      setNotice(next === 'SUSPENDED' ? `${org.name} is suspended.` : `${org.name} is active again.`);
      setReason('');
      onOrgChanged();
    }
  }
  async function saveQuota(e) {
    e.preventDefault();
    const d = await setQuota.run({ id: org.id, input: quotaInput(quota) });
    if (d) {
      setQuotaValues(quotaValues(d.setOrganizationQuota.quota));
      setNotice('Quota saved.');
      onOrgChanged();
    }
  }

  return (
    <>
      <div className="section-head">
        <h2 id="tab-title">Platform administration</h2>
      </div>
      <p className="sr-only" role="status" aria-live="polite">{notice}</p>
      {notice && <p className="notice" data-testid="notice">{notice}</p>}

      <section className="subsection" aria-labelledby="status-title">
        <h3 id="status-title">{suspended ? 'Reactivate' : 'Suspend'}</h3>
        <p className="help">
          {suspended
            ? 'Its users and API tokens work again from their next request.'
            : 'Its users and API tokens get ORGANIZATION_SUSPENDED from their next request; nothing is deleted.'}
        </p>
        <form className="form form-inline" onSubmit={changeStatus} data-testid="status-form">
          <div className="field">
            <label htmlFor="status-reason">Reason <span className="muted">(for the audit log)</span></label>
            <input id="status-reason" maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
          </div>
          <button type="submit" className={suspended ? 'btn btn-primary' : 'btn btn-danger'} disabled={status.busy}
            data-platform-action={suspended ? 'reactivate-organization' : 'suspend-organization'}>
            {suspended ? 'Reactivate organization' : 'Suspend organization'}
          </button>
        </form>
        <ErrorAlert error={status.error} title="The status was not changed" />
      </section>

      <section className="subsection" aria-labelledby="quota-title">
        <h3 id="quota-title">Quota</h3>
        <UsageBars quota={org.quota} usage={org.usage} idPrefix="platform-usage" />
        <form className="form" onSubmit={saveQuota} data-testid="quota-form">
          <p className="help">An empty field is unlimited. A limit below the current usage removes nothing; further additions are refused with QUOTA_EXCEEDED.</p>
          <div className="form-grid">
            <QuotaFields idPrefix="quota" value={quota} onChange={setQuotaValues} />
          </div>
          <ErrorAlert error={setQuota.error} title="The quota was not saved" />
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={setQuota.busy} data-platform-action="save-quota">
              {setQuota.busy ? 'Saving…' : 'Save quota'}
            </button>
          </div>
        </form>
      </section>
    </>
  );
}
