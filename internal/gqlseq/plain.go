package main

import (
	"fmt"
	"regexp"
	"strings"
)

// A plain field is one gqlgen resolves by reading its object (a struct
// field, or a method without arguments), with no directive in between, and
// marshals as a scalar or an enum whose marshaller cannot add an error: its
// value can be rendered without a field context of its own. An object type
// gets a plain marshaller (plainT, appended to generated.go) that renders a
// selection made only of plain fields (and __typename) in one pass, once the
// authorizer has allowed the row as a whole (graph/lists.go, plainAllowed);
// any other selection, and any row it does not allow, takes gqlgen's path.
var (
	// plainResolve matches a field function whose resolver reads obj and
	// whose marshaller is called on the value: $1 the read, $2 the marshaller.
	plainResolve = regexp.MustCompile(`\t\tfunc\(ctx context\.Context\) \(any, error\) \{\n\t\t\treturn (obj\.[A-Za-z0-9_]+(?:\(\))?), nil\n\t\t\},\n\t\tnil,\n\t\tfunc\(ctx context\.Context, selections ast\.SelectionSet, v [^)]+\) graphql\.Marshaler \{\n\t\t\treturn ec\.(marshal[NO][^(]+)\(ctx, selections, v\)\n\t\t\},\n`)
	fieldCase    = regexp.MustCompile(`(?m)^\t\tcase "([A-Za-z0-9_]+)":\n\t\t\tout\.Values\[i\] = ec\.(_[A-Za-z0-9_]+)\(ctx, field, obj\)$`)
	// Marshaller bodies that cannot add an error: a nullable value (O), or
	// a non-null one whose Null result is the only error (N; the plain
	// marshaller then declines the row instead).
	nullableScalar = regexp.MustCompile(`^(?:\tif v == nil \{\n\t\treturn graphql\.Null\n\t\}\n)?\t_ = sel\n(?:\t_ = ctx\n)?\tres := [A-Za-z0-9_.]+\(\*?v\)\n\treturn res\n$`)
	nullableEnum   = regexp.MustCompile(`^(?:\tif v == nil \{\n\t\treturn graphql\.Null\n\t\}\n)?\treturn v\n$`)
	nonNullEnum    = regexp.MustCompile(`^\treturn v\n$`)
	nonNullScalar  = regexp.MustCompile(`^\t_ = sel\n\tres := ([A-Za-z0-9_.]+)\(v\)\n\tif res == graphql\.Null \{\n\t\tgraphql\.AddInvalidNullFromMarshaler\(ctx, "[A-Za-z0-9_]+!"\)\n\t\}\n\treturn res\n$`)
)

// funcBody returns the statements of the method of executionContext named
// name (between its opening line and its closing brace), or "".
func funcBody(src, name string) string {
	i := strings.Index(src, "\nfunc (ec *executionContext) "+name+"(")
	if i < 0 {
		return ""
	}
	b := body(src, i+1)
	open := strings.Index(b, "{\n")
	end := strings.LastIndex(b, "\n}")
	if open < 0 || end < open {
		return ""
	}
	return b[open+2 : end+1]
}

// plainCase returns the Go statements that render field name of an object
// into row.Values[i], or "" when the field is not plain.
func plainCase(src, fn string) string {
	i := strings.Index(src, "\nfunc (ec *executionContext) "+fn+"(ctx context.Context, field graphql.CollectedField, obj ")
	if i < 0 {
		return ""
	}
	m := plainResolve.FindStringSubmatch(body(src, i+1))
	if m == nil {
		return ""
	}
	read, marshaller := m[1], m[2]
	mb := funcBody(src, marshaller)
	switch {
	case mb == "":
		return ""
	case strings.HasPrefix(marshaller, "marshalO") && (nullableScalar.MatchString(mb) || nullableEnum.MatchString(mb)):
		return fmt.Sprintf("row.Values[i] = ec.%s(ctx, nil, %s)", marshaller, read)
	case strings.HasPrefix(marshaller, "marshalN") && nonNullEnum.MatchString(mb):
		return fmt.Sprintf("row.Values[i] = %s", read)
	case strings.HasPrefix(marshaller, "marshalN"):
		if c := nonNullScalar.FindStringSubmatch(mb); c != nil {
			return fmt.Sprintf("m := %s(%s)\nif m == graphql.Null {\nreturn nil\n}\nrow.Values[i] = m", c[1], read)
		}
	}
	return ""
}

// plainFunc returns the plain marshaller of object type typ (obj's Go type
// objType), whose object function is objBody, or "" when none of its fields
// is plain.
func plainFunc(src, typ, objType, objBody string) string {
	var (
		cases strings.Builder
		names = []string{`"__typename"`}
	)
	for _, c := range fieldCase.FindAllStringSubmatch(objBody, -1) {
		code := plainCase(src, c[2])
		if code == "" {
			continue
		}
		names = append(names, fmt.Sprintf("%q", c[1]))
		fmt.Fprintf(&cases, "case %q:\n%s\n", c[1], code)
	}
	if len(names) == 1 {
		return ""
	}
	return fmt.Sprintf(`
// %s renders obj when every field of the selection is plain and the
// authorizer allows the row (internal/gqlseq); nil sends it down gqlgen's path.
func (ec *executionContext) %s(ctx context.Context, fields []graphql.CollectedField, obj %s) graphql.Marshaler {
	for i := range fields {
		switch fields[i].Name {
		case %s:
		default:
			return nil
		}
	}
	if !ec.plainAllowed(ctx, %q, fields, obj) {
		return nil
	}
	row := newPlainRow(fields)
	for i := range fields {
		switch fields[i].Name {
		case "__typename":
			row.Values[i] = graphql.MarshalString(%q)
		%s
		default:
			return nil
		}
	}
	return row
}
`, plainName(typ), plainName(typ), objType, strings.Join(names, ", "), typ, typ, cases.String())
}

func plainName(typ string) string { return "plain" + typ }

var collectLine = regexp.MustCompile(`(?m)^\tfields := graphql\.CollectFields\(ec\.OperationContext, sel, [A-Za-z0-9]+Implementors\)\n`)

// withPlain returns src with a plain marshaller for every object type that
// has plain fields, called first by the type's object function.
func withPlain(src string) string {
	var (
		out   strings.Builder
		funcs strings.Builder
		last  int
	)
	for _, loc := range objectFunc.FindAllStringSubmatchIndex(src, -1) {
		typ, objType := src[loc[2]:loc[3]], src[loc[4]:loc[5]]
		if typ == "Query" || typ == "Mutation" || typ == "Subscription" {
			continue
		}
		b := body(src, loc[0])
		f := plainFunc(src, typ, objType, b)
		c := collectLine.FindStringIndex(b)
		if f == "" || c == nil {
			continue
		}
		at := loc[0] + c[1]
		out.WriteString(src[last:at])
		fmt.Fprintf(&out, "\tif m := ec.%s(ctx, fields, obj); m != nil {\n\t\treturn m\n\t}\n", plainName(typ))
		last = at
		funcs.WriteString(f)
	}
	out.WriteString(src[last:])
	out.WriteString(funcs.String())
	return out.String()
}
