// Monaco (GraphiQL 5's editor) runs its language services in web workers.
// They are built by build.mjs as files of this page and loaded from the
// server's own origin: the Content-Security-Policy allows workers from
// 'self' only, never blob: or another origin. Imported before GraphiQL so
// that the environment is in place when the first editor starts.
const base = '/ui/graphiql/';

globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const file = label === 'json' ? 'json.worker.js' : label === 'graphql' ? 'graphql.worker.js' : 'editor.worker.js';
    return new Worker(base + file, { type: 'module', name: label });
  },
};
