import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/style.css';

const fetcher = createGraphiQLFetcher({ url: '/graphql' });
createRoot(document.getElementById('root')).render(<GraphiQL fetcher={fetcher} />);
