// The Organizations page: one card per organization the API shows the
// caller (their own; every organization for a platform administrator).
import { useEffect, useRef, useState } from 'react';
import { Link } from 'wouter';
import { gql } from '../api.js';
import { useSession } from '../session.jsx';
import { Badge, Empty, ErrorAlert, Loading, Time, UsageBars, sameOriginImage, useMutation, usePages, useTitle } from '../ui.jsx';
import { QuotaFields, quotaInput } from './org/Platform.jsx';

const PAGE_SIZE = 24;

export const ORGANIZATIONS = `query Organizations($first: Int, $after: String) {
  organizations(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id name slug domain domains { domain verified } status userCount workspaceCount createdAt externalId
      quota { maxUsers maxWorkspaces maxCpuCores maxMemoryMb maxStorageGb }
      usage { users workspaces cpuCores memoryMb storageGb }
      branding { displayName logoUrl primaryColor } }
  }
}`;

// The same fields read through organization(id): see withQuota.
const ORGANIZATION_QUOTA = `query OrganizationQuota($id: ID!) {
  organization(id: $id) {
    id
    quota { maxUsers maxWorkspaces maxCpuCores maxMemoryMb maxStorageGb }
    usage { users workspaces cpuCores memoryMb storageGb }
  }
}`;

/**
 * WORKAROUND (server bug, reported): for a caller who is not a platform
 * administrator, `organizations` answers their organization as loaded with
 * their session (internal/store's orgColumns), without the quota columns,
 * so its quota reads as unlimited. organization(id) answers the real quota:
 * a user's listing has one organization, so it is read again that way.
 */
async function withQuota(nodes) {
  return Promise.all(
    nodes.map(async (o) => {
      try {
        const d = await gql(ORGANIZATION_QUOTA, { id: o.id });
        return d.organization ? { ...o, quota: d.organization.quota, usage: d.organization.usage } : o;
      } catch {
        return o;
      }
    }),
  );
}

const CREATE_ORGANIZATION = `mutation CreateOrganization($input: CreateOrganizationInput!) {
  createOrganization(input: $input) { id name }
}`;

export default function Organizations() {
  useTitle('Organizations');
  const { me } = useSession();
  const platformAdmin = !!me?.platformAdmin;
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState('');

  const { items: orgs, page, error, loading, load } = usePages(async (after) => {
    const d = await gql(ORGANIZATIONS, { first: PAGE_SIZE, after });
    const nodes = platformAdmin ? d.organizations.nodes : await withQuota(d.organizations.nodes);
    return { ...d.organizations, nodes };
  });

  useEffect(() => {
    if (me) load(null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [me?.id]);

  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>Organizations</h1>
        <div className="page-head-side">
        {page && (
          <p className="muted" data-testid="org-total">
            {page.totalCount === 1 ? '1 organization' : `${page.totalCount} organizations`}
          </p>
        )}
        {me?.platformAdmin && !creating && (
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)} data-platform-action="new-organization">
            New organization
          </button>
        )}
        </div>
      </div>
      <p className="sr-only" role="status" aria-live="polite">{notice}</p>
      {notice && <p className="notice" data-testid="notice">{notice}</p>}
      {creating && (
        <NewOrganization
          onCancel={() => setCreating(false)}
          onCreated={(o) => {
            setCreating(false);
            setNotice(`Organization ${o.name} created. Invite its first admin from its Members tab.`);
            load(null);
          }}
        />
      )}
      <ErrorAlert error={error} title="The organizations could not be loaded" />
      {!loading && !error && orgs.length === 0 && <Empty>No organizations to show.</Empty>}
      <ul className="cards" aria-label="Organizations">
        {orgs.map((o) => (
          <li key={o.id}>
            <OrgCard org={o} />
          </li>
        ))}
      </ul>
      {loading && <Loading label="Loading organizations…" />}
      {page?.pageInfo.hasNextPage && !loading && (
        <p className="center">
          <button type="button" className="btn" onClick={() => load(page.pageInfo.endCursor)}>
            Show more organizations
          </button>
        </p>
      )}
    </>
  );
}

/** The platform administrator's form for a new organization (createOrganization). */
function NewOrganization({ onCancel, onCreated }) {
  const create = useMutation(CREATE_ORGANIZATION);
  const [name, setName] = useState('');
  const [domain, setDomain] = useState('');
  const [quota, setQuota] = useState({});
  async function submit(e) {
    e.preventDefault();
    const input = { name: name.trim() };
    if (domain.trim()) input.domain = domain.trim();
    // Only a quota with a limit given is sent; else the server's default.
    if (Object.values(quota).some((v) => String(v ?? '').trim() !== '')) input.quota = quotaInput(quota);
    const d = await create.run({ input });
    if (d) onCreated(d.createOrganization);
  }
  return (
    <form className="form panel" onSubmit={submit} data-testid="new-org-form" aria-labelledby="new-org-title">
      <h2 id="new-org-title" className="form-title">New organization</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="new-org-name">Name</label>
          <input id="new-org-name" required maxLength={100} value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="new-org-domain">Domain <span className="muted">(optional)</span></label>
          <input id="new-org-domain" placeholder="example.com" value={domain} onChange={(e) => setDomain(e.target.value)} />
        </div>
      </div>
      <fieldset className="form-grid">
        <legend>Quota <span className="muted">(optional; empty: the server's default, or unlimited where another limit is given)</span></legend>
        <QuotaFields idPrefix="new-org-quota" value={quota} onChange={setQuota} />
      </fieldset>
      <ErrorAlert error={create.error} title="The organization was not created" />
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={create.busy} data-platform-action="create-organization">
          {create.busy ? 'Creating…' : 'Create organization'}
        </button>
        <button type="button" className="btn" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}

/** The card of one organization. */
export function OrgCard({ org }) {
  const ref = useRef(null);
  // Branding: the colour goes in --org-accent, set through CSSOM (the CSP
  // allows it, unlike a style attribute); without one the card uses the
  // console's accent colour.
  useBrandColor(ref, org.branding?.primaryColor);
  return (
    <article className="card org-card" ref={ref} data-testid="org-card" data-org-id={org.id} aria-labelledby={`org-${org.id}`}>
      <header className="org-card-head">
        <OrgLogo org={org} />
        <div className="org-card-title">
          <h2 id={`org-${org.id}`}>
            <Link href={`/organizations/${encodeURIComponent(org.id)}`} className="stretched" data-testid="org-link">
              {org.name}
            </Link>
          </h2>
          {org.branding?.displayName && org.branding.displayName !== org.name && (
            <p className="org-display-name" data-testid="org-display-name">{org.branding.displayName}</p>
          )}
          <p className="muted org-domain" data-testid="org-domain">{domainText(org)}</p>
        </div>
        <Badge value={org.status} testId="org-status" />
      </header>
      <dl className="stats">
        <div>
          <dt>Users</dt>
          <dd data-testid="user-count">{org.userCount}</dd>
        </div>
        <div>
          <dt>Workspaces</dt>
          <dd data-testid="workspace-count">{org.workspaceCount}</dd>
        </div>
      </dl>
      <UsageBars quota={org.quota} usage={org.usage} idPrefix={`card-${org.id}`} />
      <p className="muted small">Created <Time value={org.createdAt} date /></p>
    </article>
  );
}

/**
 * The organization's domain: its primary domain, else the domains it claims
 * (an unverified one says so), else "No domain".
 */
export function domainText(org) {
  if (org.domain) return org.domain;
  const ds = org.domains ?? [];
  if (ds.length === 0) return 'No domain';
  return ds.map((d) => (d.verified ? d.domain : `${d.domain} (unverified)`)).join(', ');
}

/** Sets --org-accent on ref's element to a #RRGGBB colour (or removes it). */
export function useBrandColor(ref, color) {
  useEffect(() => {
    if (!ref.current) return;
    if (color && /^#[0-9a-f]{6}$/i.test(color)) ref.current.style.setProperty('--org-accent', color);
    else ref.current.style.removeProperty('--org-accent');
  }, [ref, color]);
}

/**
 * The organization's logo (branding.logoUrl) or its initials. The page's
 * Content Security Policy allows images from its own origin only
 * (img-src 'self' data:), so a logo on another origin (branding requires an
 * https URL, usually elsewhere) is not loaded: the initials stand in.
 */
export function OrgLogo({ org }) {
  const logo = sameOriginImage(org.branding?.logoUrl);
  if (logo) return <img className="org-logo" src={logo} alt="" />;
  const initials = org.name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0].toUpperCase())
    .join('');
  return <span className="org-logo org-initials" aria-hidden="true">{initials}</span>;
}
