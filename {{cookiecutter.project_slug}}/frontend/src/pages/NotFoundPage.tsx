import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <main className="page">
      <div className="card">
        <h1>Page not found</h1>
        <p>
          There is no page at this address. <Link to="/">Go to the home page</Link>.
        </p>
      </div>
    </main>
  );
}
