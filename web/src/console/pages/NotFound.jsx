// Shown for an unknown path, and by pages for an object the API does not
// show the caller (another organization's ID answers NOT_FOUND, exactly as
// one that does not exist).
import { Link } from 'wouter';
import { useTitle } from '../ui.jsx';

export default function NotFound({ what = 'Page' }) {
  useTitle(`${what} not found`);
  return (
    <section className="panel notfound" role="alert" aria-labelledby="notfound-title" data-testid="not-found">
      <h1 id="notfound-title" tabIndex={-1}>{what} not found</h1>
      <p>It does not exist, or your account has no access to it.</p>
      <p><Link href="/">Back to your organizations</Link></p>
    </section>
  );
}
