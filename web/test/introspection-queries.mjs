// Prints, as one JSON object, the exact texts of the introspection queries
// that tools send, made by graphql-js's getIntrospectionQuery (the pinned
// graphql package of web/package.json):
//
//   graphql-js  getIntrospectionQuery() with its defaults (codegen, Postman)
//   graphiql    the options GraphiQL 5 passes (@graphiql/react stores/schema.js:
//               inputValueDeprecation, schemaDescription)
//   all         every stable option: descriptions, specifiedByUrl,
//               directiveIsRepeatable, schemaDescription, inputValueDeprecation,
//               oneOf
//
// internal/server/testdata/introspection/<name>.graphql holds these texts;
// TestIntrospectionQueryTextsAreGraphQLJs checks they still equal this
// script's output. To regenerate them (after updating graphql):
//
//   node web/test/introspection-queries.mjs --write internal/server/testdata/introspection
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getIntrospectionQuery } from 'graphql';

const queries = {
  'graphql-js': getIntrospectionQuery(),
  graphiql: getIntrospectionQuery({ inputValueDeprecation: true, schemaDescription: true }),
  all: getIntrospectionQuery({
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
    oneOf: true,
  }),
};

if (process.argv[2] === '--write') {
  for (const [name, text] of Object.entries(queries)) {
    writeFileSync(join(process.argv[3], `${name}.graphql`), text);
  }
} else {
  process.stdout.write(JSON.stringify(queries));
}
