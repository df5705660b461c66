// The Organizations page: one card per organization the API shows the
// caller (their own; every organization for a platform administrator).
import { useEffect, useRef, useState } from 'react';
import { Link } from 'wouter';
import { gql } from '../api.js';
import { Badge, Empty, ErrorAlert, Loading, Time, useTitle } from '../ui.jsx';

const PAGE_SIZE = 24;

export const ORGANIZATIONS = `query Organizations($first: Int, $after: String) {
  organizations(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id name slug domain domains { domain verified } status userCount workspaceCount createdAt externalId }
  }
}`;

export default function Organizations() {
  useTitle('Organizations');
  const [orgs, setOrgs] = useState([]);
  const [page, setPage] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(true);

  async function load(after) {
    setLoading(true);
    setError(null);
    try {
      const d = await gql(ORGANIZATIONS, { first: PAGE_SIZE, after });
      setOrgs((prev) => (after ? [...prev, ...d.organizations.nodes] : d.organizations.nodes));
      setPage(d.organizations);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    load(null);
  }, []);

  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>Organizations</h1>
        {page && (
          <p className="muted" data-testid="org-total">
            {page.totalCount === 1 ? '1 organization' : `${page.totalCount} organizations`}
          </p>
        )}
      </div>
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

/** The card of one organization. */
export function OrgCard({ org }) {
  const ref = useRef(null);
  // Branding (a later issue adds Organization.branding { primaryColor logoUrl
  // displayName }): the colour goes in --org-accent, set through CSSOM (CSP
  // allows it, unlike a style attribute). Until then every card uses the
  // console's accent colour.
  useEffect(() => {
    const color = org.branding?.primaryColor;
    if (ref.current && color && /^#[0-9a-f]{3,8}$/i.test(color)) ref.current.style.setProperty('--org-accent', color);
  }, [org.branding?.primaryColor]);
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
      {/* QUOTA AND USAGE: a later issue adds Organization.quota { maxUsers
          maxWorkspaces maxCpuCores maxMemoryMb maxStorageGb } and usage
          { users workspaces cpuCores memoryMb storageGb }. Add them to the
          ORGANIZATIONS query and render <UsageBars quota usage /> here: one
          meter per limited resource (null = unlimited, no meter). */}
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

/** The organization's logo (branding.logoUrl, a later issue) or its initials. */
function OrgLogo({ org }) {
  const logo = org.branding?.logoUrl;
  if (logo) return <img className="org-logo" src={logo} alt="" />;
  const initials = org.name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => w[0].toUpperCase())
    .join('');
  return <span className="org-logo org-initials" aria-hidden="true">{initials}</span>;
}
