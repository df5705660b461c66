package graph

import (
	"fmt"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/neosc/neosc/internal/authz"
)

// The access rule of every field is stated in its description, derived
// from the same @auth and @scope directives the field middleware
// (internal/authz) enforces, so the documentation cannot disagree with the
// rule. It is done once, at package initialisation, on the parsed schema
// gqlgen generated: introspection (__type.fields.description), the
// authorizer's rule index (Schema) and SDL all read that one schema.
func init() { describeAccess(parsedSchema) }

// accessPrefix begins the paragraph describeAccess appends to a field's
// description.
const accessPrefix = "Access: "

// describeAccess appends to the description of every field of every object
// type of s a paragraph naming its @auth rule (and what the rule means, from
// the Access enum's own descriptions) and the API token scopes that reach
// it (@scope); fields of interfaces say that the implementing type decides.
func describeAccess(s *ast.Schema) {
	for _, def := range s.Types {
		if def.BuiltIn || strings.HasPrefix(def.Name, "__") {
			continue
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			switch def.Kind {
			case ast.Object:
				f.Description = paragraph(f.Description, accessNote(s, f, def))
			case ast.Interface:
				f.Description = paragraph(f.Description, accessPrefix+"the rule of the object type that implements it.")
			}
		}
	}
}

// accessNote is the access paragraph of field f of object type def: its
// rule (own, or inherited from def), the rule's meaning, and which API
// token scopes reach the field.
func accessNote(s *ast.Schema, f *ast.FieldDefinition, def *ast.Definition) string {
	rule, ok := authz.RuleOf(f, def)
	if !ok {
		return accessPrefix + "none; the field is denied to every caller."
	}
	var b strings.Builder
	b.WriteString(accessPrefix + string(rule))
	if f.Directives.ForName("auth") == nil {
		fmt.Fprintf(&b, " (the rule of type %s)", def.Name)
	}
	if meaning := enumValueDescription(s, "Access", string(rule)); meaning != "" {
		b.WriteString(" — " + meaning)
	}
	if !strings.HasSuffix(b.String(), ".") {
		b.WriteString(".")
	}
	if rule == authz.Public {
		return b.String()
	}
	scopes, declared := authz.ScopeOf(f, def)
	switch {
	case !declared || len(scopes) == 0:
		b.WriteString(" API tokens: refused.")
	case len(scopes) == 1:
		fmt.Fprintf(&b, " API tokens: need scope %s.", scopes[0])
	default:
		names := make([]string, len(scopes))
		for i, sc := range scopes {
			names[i] = string(sc)
		}
		fmt.Fprintf(&b, " API tokens: need one of the scopes %s.", strings.Join(names, ", "))
	}
	return b.String()
}

// SDL prints the schema as clients see it through introspection: every
// type, field and description, access paragraphs included, and the
// applied @auth/@scope directives.
func SDL() string {
	var b strings.Builder
	formatter.NewFormatter(&b).FormatSchema(parsedSchema)
	return b.String()
}

func enumValueDescription(s *ast.Schema, enum, value string) string {
	def := s.Types[enum]
	if def == nil {
		return ""
	}
	if v := def.EnumValues.ForName(value); v != nil {
		return strings.TrimSpace(v.Description)
	}
	return ""
}

func paragraph(desc, note string) string {
	if desc = strings.TrimSpace(desc); desc == "" {
		return note
	}
	return desc + "\n\n" + note
}
