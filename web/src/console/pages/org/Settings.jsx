// The Policy & branding tab (admins; platform administrators read it): the
// organization's security policy (updateSecurityPolicy, the whole policy)
// and its branding (updateOrganizationBranding; an empty field clears it).
import { useState } from 'react';
import { ErrorAlert, Loading, useMutation, useQuery } from '../../ui.jsx';

const SETTINGS = `query OrganizationSettings($id: ID!) {
  organization(id: $id) {
    id
    securityPolicy { requireSso allowedIpRanges sessionTtlMinutes }
    branding { displayName logoUrl primaryColor }
  }
}`;
const UPDATE_POLICY = `mutation UpdateSecurityPolicy($id: ID!, $input: SecurityPolicyInput!) {
  updateSecurityPolicy(id: $id, input: $input) { id securityPolicy { requireSso allowedIpRanges sessionTtlMinutes } }
}`;
const UPDATE_BRANDING = `mutation UpdateOrganizationBranding($id: ID!, $input: BrandingInput!) {
  updateOrganizationBranding(id: $id, input: $input) { id branding { displayName logoUrl primaryColor } }
}`;

export default function Settings({ org, can, onOrgChanged }) {
  const { data, error, loading } = useQuery(SETTINGS, { id: org.id });
  const o = data?.organization;
  return (
    <>
      <div className="section-head">
        <h2 id="tab-title">Policy &amp; branding</h2>
      </div>
      <ErrorAlert error={error} title="The settings could not be loaded" />
      {loading && !o && <Loading label="Loading the settings…" />}
      {o && <PolicyForm org={org} policy={o.securityPolicy} readOnly={!can.admin} />}
      {o && <BrandingForm org={org} branding={o.branding} readOnly={!can.admin} onSaved={onOrgChanged} />}
    </>
  );
}

function PolicyForm({ org, policy, readOnly }) {
  const save = useMutation(UPDATE_POLICY);
  const [requireSso, setRequireSso] = useState(policy.requireSso);
  const [ranges, setRanges] = useState(policy.allowedIpRanges.join('\n'));
  const [ttl, setTtl] = useState(policy.sessionTtlMinutes == null ? '' : String(policy.sessionTtlMinutes));
  const [notice, setNotice] = useState('');

  async function submit(e) {
    e.preventDefault();
    setNotice('');
    const input = {
      requireSso,
      allowedIpRanges: ranges.split(/[\s,]+/).map((r) => r.trim()).filter(Boolean),
      sessionTtlMinutes: ttl.trim() === '' ? null : Number(ttl),
    };
    const d = await save.run({ id: org.id, input });
    if (d) {
      const p = d.updateSecurityPolicy.securityPolicy;
      setRanges(p.allowedIpRanges.join('\n'));
      setTtl(p.sessionTtlMinutes == null ? '' : String(p.sessionTtlMinutes));
      setNotice('Security policy saved. It applies from the next request.');
    }
  }

  return (
    <section className="subsection" aria-labelledby="policy-title">
      <h3 id="policy-title">Security policy</h3>
      <form className="form" onSubmit={submit} data-testid="policy-form">
        <fieldset className="plain" disabled={readOnly || save.busy}>
          <legend className="sr-only">Security policy</legend>
          <div className="field">
            <label className="check">
              <input id="policy-sso" type="checkbox" checked={requireSso} onChange={(e) => setRequireSso(e.target.checked)} />
              Require SSO (refuse password sign-in, registration and invitation acceptance; only for an organization whose users sign in by SSO)
            </label>
          </div>
          <div className="field">
            <label htmlFor="policy-ranges">Allowed IP ranges</label>
            <textarea id="policy-ranges" rows={3} value={ranges} onChange={(e) => setRanges(e.target.value)}
              aria-describedby="policy-ranges-help" placeholder="203.0.113.0/24" />
            <p className="help" id="policy-ranges-help">CIDRs or addresses, one a line; empty: every address. Must include your own address.</p>
          </div>
          <div className="field">
            <label htmlFor="policy-ttl">Session lifetime (minutes)</label>
            <input id="policy-ttl" type="number" min={5} max={43200} value={ttl} onChange={(e) => setTtl(e.target.value)}
              placeholder="Server default" aria-describedby="policy-ttl-help" />
            <p className="help" id="policy-ttl-help">5 to 43200; empty: the server's default.</p>
          </div>
        </fieldset>
        <ErrorAlert error={save.error} title="The security policy was not saved" />
        <p className="sr-only" role="status" aria-live="polite">{notice}</p>
        {notice && <p className="notice" data-testid="policy-notice">{notice}</p>}
        {!readOnly && (
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={save.busy} data-admin-action="save-policy">
              {save.busy ? 'Saving…' : 'Save policy'}
            </button>
          </div>
        )}
      </form>
    </section>
  );
}

function BrandingForm({ org, branding, readOnly, onSaved }) {
  const save = useMutation(UPDATE_BRANDING);
  const [values, setValues] = useState({
    displayName: branding.displayName ?? '',
    logoUrl: branding.logoUrl ?? '',
    primaryColor: branding.primaryColor ?? '',
  });
  const [notice, setNotice] = useState('');
  const set = (k) => (e) => {
    setNotice('');
    setValues({ ...values, [k]: e.target.value });
  };

  async function submit(e) {
    e.preventDefault();
    setNotice('');
    // Every field is sent: an empty one clears it.
    const input = { displayName: values.displayName.trim(), logoUrl: values.logoUrl.trim(), primaryColor: values.primaryColor.trim() };
    const d = await save.run({ id: org.id, input });
    if (d) {
      const b = d.updateOrganizationBranding.branding;
      setValues({ displayName: b.displayName ?? '', logoUrl: b.logoUrl ?? '', primaryColor: b.primaryColor ?? '' });
      setNotice('Branding saved.');
      onSaved?.();
    }
  }

  return (
    <section className="subsection" aria-labelledby="branding-title">
      <h3 id="branding-title">Branding</h3>
      <form className="form" onSubmit={submit} data-testid="branding-form">
        <fieldset disabled={readOnly || save.busy} className="plain form-grid">
          <legend className="sr-only">Branding</legend>
          <div className="field">
            <label htmlFor="branding-name">Display name</label>
            <input id="branding-name" maxLength={100} value={values.displayName} onChange={set('displayName')} />
          </div>
          <div className="field">
            <label htmlFor="branding-logo">Logo URL</label>
            <input id="branding-logo" type="url" placeholder="https://" value={values.logoUrl} onChange={set('logoUrl')}
              aria-describedby="branding-logo-help" />
            <p className="help" id="branding-logo-help">An https URL, for the sign-in page. The console shows it only from its own origin.</p>
          </div>
          <div className="field">
            <label htmlFor="branding-color">Primary colour</label>
            <input id="branding-color" pattern="#[0-9A-Fa-f]{6}" placeholder="#RRGGBB" value={values.primaryColor}
              onChange={set('primaryColor')} aria-describedby="branding-color-help" />
            <p className="help" id="branding-color-help">#RRGGBB; empty clears it.</p>
          </div>
        </fieldset>
        <ErrorAlert error={save.error} title="The branding was not saved" />
        <p className="sr-only" role="status" aria-live="polite">{notice}</p>
        {notice && <p className="notice" data-testid="branding-notice">{notice}</p>}
        {!readOnly && (
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={save.busy} data-admin-action="save-branding">
              {save.busy ? 'Saving…' : 'Save branding'}
            </button>
          </div>
        )}
      </form>
    </section>
  );
}
