// Builds the console (GET /) and GraphiQL (GET /graphiql) into dist/,
// which the Go binary embeds (web/web.go). Nothing here reaches the
// network at run time: every script, style, font and worker is a file of
// dist/, served by the binary from its own origin.
//
//   node build.mjs          production build (minified)
//   node build.mjs --dev    unminified, with source maps
import * as esbuild from 'esbuild';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';

const dev = process.argv.includes('--dev');
const out = new URL('./dist/', import.meta.url).pathname;

// dist/README.md is committed (go:embed needs the folder on a fresh
// clone); everything else in dist/ is built and git-ignored.
const pages = ['console', 'graphiql'];
await Promise.all([...pages, '.stamp'].map((p) => rm(out + p, { recursive: true, force: true })));
await mkdir(out, { recursive: true });

const common = {
  bundle: true,
  minify: !dev,
  sourcemap: dev ? 'linked' : false,
  target: ['es2022'],
  jsx: 'automatic',
  loader: { '.ttf': 'file', '.woff': 'file', '.woff2': 'file', '.svg': 'file', '.png': 'file' },
  define: { 'process.env.NODE_ENV': JSON.stringify(dev ? 'development' : 'production') },
  logLevel: 'warning',
  legalComments: 'linked',
};

// One entry per page; each page's index.html is copied beside its bundle.
await Promise.all(pages.map(async (page) => {
  await esbuild.build({
    ...common,
    entryPoints: { app: `src/${page}/main.jsx` },
    outdir: `${out}${page}`,
    format: 'esm',
    splitting: false,
  });
  await cp(`src/${page}/index.html`, `${out}${page}/index.html`);
  await cp('src/favicon.svg', `${out}${page}/favicon.svg`);
}));

// GraphiQL 5 edits with Monaco, whose language services run in web workers.
// Each worker is its own file beside GraphiQL's bundle, loaded from this
// origin by src/graphiql/workers.js (no blob: or CDN worker, which the
// Content-Security-Policy of web/web.go would refuse anyway).
await esbuild.build({
  ...common,
  entryPoints: {
    'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
    'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
    'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
  },
  outdir: `${out}graphiql`,
  format: 'esm',
  splitting: false,
});

// The stamp tells make (and the Go server) that dist/ is a complete build.
await writeFile(`${out}.stamp`, new Date().toISOString() + '\n');
